"""Reading a CRM case import: a JSON list or a CSV file into rows of case fields.

A row is one case as for ``POST /admin/cases`` plus its ``external_ref``. In CSV the
columns are named as the fields; the lists (``resident_ids``, ``reported_hazards``) are
written as a JSON list (``["a", "b"]``) or separated by ``;``. An empty cell, like a JSON
``null``, means the field's default (``status`` open, no officer, no residents, no
hazards, no description); ``due_at`` and ``aware_at`` left empty follow the rules (the
service standard, ``opened_at``). A file whose shape is wrong as a whole (not a list of
objects, an unknown or repeated CSV column, no ``external_ref`` column) is refused with
``ImportFileError``; anything wrong within a row rejects that row alone.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sync.protocol import CaseData

#: Every field a row may give, in the order the documentation lists them.
FIELDS: tuple[str, ...] = tuple(CaseData.model_fields)
LIST_FIELDS = frozenset(name for name, info in CaseData.model_fields.items() if getattr(info.annotation, "__origin__", None) is list)
#: null/empty means "not given": the rules give them on create and they stay as they are on update.
RULE_DEFAULTS = frozenset({"due_at", "aware_at"})
#: What null/empty means for the other optional fields: their default (an enum as its protocol text).
_DEFAULTS: dict[str, Any] = {
    name: getattr(default, "value", default)
    for name, info in CaseData.model_fields.items() if not info.is_required() and name not in RULE_DEFAULTS
    for default in [info.get_default(call_default_factory=True)]
}


class ImportFileError(ValueError):
    """The file as a whole cannot be read as case rows; ``message`` says what to change."""

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


@dataclass(frozen=True)
class Row:
    """One case of the file: its 1-based number (the first case is 1), its fields as given, or why it cannot be read."""

    number: int
    fields: dict[str, Any]
    problem: str | None = None


def clean(raw: dict[str, Any]) -> dict[str, Any]:
    """A row's fields with null/empty resolved: the default of the field, or left out (``RULE_DEFAULTS``, required fields)."""
    cleaned: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None:
            if name not in _DEFAULTS:
                continue
            value = _DEFAULTS[name]
            value = list(value) if isinstance(value, list) else value  # a fresh list each row
        cleaned[name] = value
    return cleaned


def from_json(payload: Any) -> list[Row]:
    """Rows of a parsed JSON body: a list of objects."""
    if not isinstance(payload, list):
        raise ImportFileError("Send a JSON list of cases (one object of case fields each), e.g. [{\"external_ref\": \"CRM-1\", ...}].")
    bad = [index + 1 for index, item in enumerate(payload) if not isinstance(item, dict)]
    if bad:
        raise ImportFileError(f"Each case is a JSON object of case fields; row{'s' if len(bad) > 1 else ''} "
                              f"{', '.join(map(str, bad[:10]))} {'are' if len(bad) > 1 else 'is'} not.", {"rows": bad[:100]})
    return [Row(index + 1, item) for index, item in enumerate(payload)]


def _cell(name: str, text: str) -> Any:
    value = text.strip()
    if not value:
        return None
    if name in LIST_FIELDS:
        if value.startswith("["):
            try:
                return json.loads(value)
            except ValueError:
                return value  # the row is rejected naming the field
        return [part.strip() for part in value.split(";") if part.strip()]
    return value


def _header(names: list[str]) -> list[str]:
    names = [name.strip() for name in names]
    unknown = [name for name in names if name not in FIELDS]
    if unknown:
        raise ImportFileError(f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(map(repr, unknown))}. "
                              f"Name the columns as the case fields: {', '.join(FIELDS)}.", {"columns": unknown})
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ImportFileError(f"Column{'s' if len(repeated) > 1 else ''} {', '.join(map(repr, repeated))} appear more than once; keep one of each.",
                              {"columns": repeated})
    if "external_ref" not in names:
        raise ImportFileError("Add an external_ref column (the CRM's reference of each case): the import creates or updates by it.")
    return names


def iter_csv(text: str) -> Iterator[Row]:
    """Rows of a CSV text (a byte-order mark and Windows line endings are fine; quote cells holding commas)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        names = _header(next(reader))
    except StopIteration:
        raise ImportFileError("The file is empty: give a header line of field names, then one case a line.") from None
    except csv.Error as exc:
        raise ImportFileError(f"The header line is not valid CSV ({exc}).") from None
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(f"The CSV cannot be read after case {number} ({exc}); check its quotes.", {"row": number + 1}) from None
        if not any(cell.strip() for cell in cells):
            continue  # a blank line (often the last) is no case
        number += 1
        if len(cells) != len(names):
            yield Row(number, {}, f"This line has {len(cells)} cells, the header {len(names)}; quote cells that hold a comma.")
            continue
        yield Row(number, {name: _cell(name, cell) for name, cell in zip(names, cells)})


def decode(data: bytes) -> str:
    """The text of an uploaded file (UTF-8, with or without a byte-order mark)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"The file is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8 or JSON.") from None


def read_file(data: bytes, kind: str | None = None) -> list[Row]:
    """Rows of a whole file; ``kind`` "json" or "csv", else told from its first character."""
    text = decode(data)
    if kind is None:
        kind = "json" if text.lstrip().startswith("[") else "csv"
    if kind == "json":
        try:
            return from_json(json.loads(text))
        except ValueError as exc:
            if isinstance(exc, ImportFileError):
                raise
            raise ImportFileError(f"The file is not valid JSON ({exc}).") from None
    return list(iter_csv(text))
