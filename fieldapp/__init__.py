"""Fieldapp core: domain, local store, photo import, settings and the `FieldStore` facade.

This package never imports Qt, requests, `ui`, `sync` or `portal`: the command-line
entry points that wire the parts together stand above them all, in `app`.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fieldapp.store import FieldStore as FieldStore

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # `FieldStore` is imported on first use, so `import fieldapp.domain` (the portal does,
    # through sync.protocol) does not load SQLAlchemy and the store.
    if name == "FieldStore":
        from fieldapp.store import FieldStore

        return FieldStore
    raise AttributeError(f"module 'fieldapp' has no attribute {name!r}")


__all__ = ["FieldStore", "__version__"]
