"""The composition root: the command-line entry points and the demo wiring.

It stands above the layers it wires (`fieldapp`, `ui`, `sync` and `portal`), so none of
them imports upward; `app.cli.main` is the ``fieldapp`` command.
"""
