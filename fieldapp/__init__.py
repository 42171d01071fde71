"""Fieldapp core: domain, local store, photo import, settings and the `FieldStore` facade.

This package never imports Qt, requests, `ui`, `sync` or `portal` (except the CLI
entry package, which wires the parts together).
"""

__version__ = "0.1.0"
