"""The council's letter template: letterhead, contact details and wording, preset by IT.

The shipped template (``resources/letter/template.toml``) is complete and good enough to
send. A council's own file overrides any part of it: keys it leaves out keep the shipped
value. Everything is checked when the file is read, so a mistake stops the letter with a
message naming the file and the key, never a letter that goes out half right.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fieldapp.letter.errors import LetterTemplateError
from fieldapp.resources import resource_path

#: What the wording may refer to as ``$name``.
PLACEHOLDERS = ("council", "phone", "email", "website", "opening_hours", "emergency_phone",
                "tenant", "address", "reference", "inspection_date", "officer")

_COUNCIL_TEXT = ("name", "department", "phone", "email", "website", "opening_hours", "emergency_phone")
_REQUIRED_COUNCIL = ("name", "phone", "email", "emergency_phone")
_WORDING = ("title", "introduction", "finding_emergency", "finding_significant", "finding_not_significant",
            "finding_no_hazard", "made_safe", "alternative_accommodation", "steps_intro", "step_safety_work",
            "step_supplementary_start", "step_supplementary_works", "no_work", "if_worse", "contact",
            "complaints", "other_formats", "closing")
_MAX_PHOTOS = 12


@dataclass(frozen=True)
class Council:
    """Who sends the letter and how the tenant reaches them."""

    name: str
    department: str
    address: tuple[str, ...]
    phone: str
    email: str
    website: str
    opening_hours: str
    emergency_phone: str
    logo: Path | None


@dataclass(frozen=True)
class LetterTemplate:
    """A checked template: the council, the letter's options and its wording (``$placeholders`` unfilled)."""

    council: Council
    include_photos: bool
    max_photos: int
    officer_title: str
    wording: Mapping[str, str]
    source: str                  # the file(s) it came from, for messages

    def text(self, key: str, values: Mapping[str, str]) -> str:
        """One piece of wording with its placeholders filled in."""
        return string.Template(self.wording[key]).substitute(values)


def default_template_path() -> Path:
    """The template Fieldapp ships."""
    return resource_path("letter", "template.toml")


def load_template(path: Path | str | None = None) -> LetterTemplate:
    """The shipped template, overridden by the council's file at ``path`` when given."""
    shipped = default_template_path()
    tables = _read(shipped)
    source = str(shipped)
    base_dir = shipped.parent
    if path is not None:
        own = Path(path)
        overrides = _read(own)
        _check_keys(overrides, own)
        for section, values in overrides.items():
            tables[section] = {**tables.get(section, {}), **values}
        source, base_dir = str(own), own.parent
    return _build(tables, source, base_dir)


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LetterTemplateError(f"The letter template {path} does not exist. Put the file there, or "
                                  "remove the setting to use the template Fieldapp ships.",
                                  {"file": str(path)}) from None
    except UnicodeDecodeError:
        raise LetterTemplateError(f"The letter template {path} is not UTF-8 text; save it as UTF-8.",
                                  {"file": str(path)}) from None
    except OSError as exc:
        raise LetterTemplateError(f"The letter template {path} cannot be read ({exc.strerror or exc}); "
                                  "check its permissions.", {"file": str(path)}) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LetterTemplateError(f"The letter template {path} is not valid TOML ({exc}). Fix that line.",
                                  {"file": str(path)}) from None


_KNOWN = {"council": (*_COUNCIL_TEXT, "address", "logo"),
          "letter": ("include_photos", "max_photos", "officer_title"),
          "wording": _WORDING}


def _check_keys(tables: Mapping[str, Any], path: Path) -> None:
    """Unknown sections and keys are typos: name them rather than ignore them."""
    for section, values in tables.items():
        if section not in _KNOWN:
            raise _error(path, section, f"there is no section [{section}]; use {', '.join(f'[{s}]' for s in _KNOWN)}")
        if not isinstance(values, Mapping):
            raise _error(path, section, f"'{section}' must be a section written [{section}]")
        for key in values:
            if key not in _KNOWN[section]:
                raise _error(path, f"{section}.{key}", f"unknown key; [{section}] knows {', '.join(_KNOWN[section])}")


def _error(path: Path | str, key: str, problem: str) -> LetterTemplateError:
    return LetterTemplateError(f"The letter template {path}, {key}: {problem}.", {"file": str(path), "key": key})


def _text(table: Mapping[str, Any], section: str, key: str, source: str, *, required: bool = False) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise _error(source, f"{section}.{key}", f"write it as text in quotes, not {value!r}")
    if required and not value.strip():
        raise _error(source, f"{section}.{key}", "this must be filled in: the tenant needs it")
    return value.strip()


def _build(tables: Mapping[str, Any], source: str, base_dir: Path) -> LetterTemplate:
    council_table = tables.get("council", {})
    texts = {key: _text(council_table, "council", key, source, required=key in _REQUIRED_COUNCIL)
             for key in _COUNCIL_TEXT}
    address = council_table.get("address", [])
    if not isinstance(address, list) or not all(isinstance(line, str) for line in address):
        raise _error(source, "council.address", 'write it as a list of lines, e.g. ["Civic Centre", "HM1 1AA"]')
    council = Council(address=tuple(line.strip() for line in address if line.strip()),
                      logo=_logo(council_table.get("logo"), source, base_dir), **texts)
    letter = tables.get("letter", {})
    include = letter.get("include_photos", True)
    if not isinstance(include, bool):
        raise _error(source, "letter.include_photos", f"write true or false, not {include!r}")
    most = letter.get("max_photos", 6)
    if isinstance(most, bool) or not isinstance(most, int) or not 0 <= most <= _MAX_PHOTOS:
        raise _error(source, "letter.max_photos", f"write a whole number from 0 to {_MAX_PHOTOS}, not {most!r}")
    wording_table = tables.get("wording", {})
    wording = {key: _text(wording_table, "wording", key, source, required=True) for key in _WORDING}
    for key, text in wording.items():
        _check_placeholders(text, f"wording.{key}", source)
    return LetterTemplate(council=council, include_photos=include, max_photos=most,
                          officer_title=_text(letter, "letter", "officer_title", source), wording=wording,
                          source=source)


def _check_placeholders(text: str, key: str, source: str) -> None:
    template = string.Template(text)
    if not template.is_valid():
        raise _error(source, key, "a $ must start a placeholder such as $phone (write $$ for a dollar sign)")
    unknown = sorted(set(template.get_identifiers()) - set(PLACEHOLDERS))
    if unknown:
        raise _error(source, key, f"${unknown[0]} is not a placeholder; use one of "
                                  f"{', '.join('$' + p for p in PLACEHOLDERS)}")


def _logo(value: Any, source: str, base_dir: Path) -> Path | None:
    """The logo file, checked to be a PNG or JPEG image now rather than when a letter fails."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _error(source, "council.logo", f"write the file name in quotes, not {value!r}")
    path = Path(value) if Path(value).is_absolute() else base_dir / value
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            kind = image.format
    except FileNotFoundError:
        raise _error(source, "council.logo", f"the logo {path} does not exist") from None
    except (OSError, UnidentifiedImageError):
        raise _error(source, "council.logo", f"the logo {path} is not an image Fieldapp can read") from None
    if kind not in ("PNG", "JPEG"):
        raise _error(source, "council.logo", f"the logo {path} is a {kind} image; save it as PNG or JPEG")
    return path
