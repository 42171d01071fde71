"""Settings: where Fieldapp keeps its files, and the site-wide and per-user configuration.

Folders come from platformdirs (appname "Fieldapp"): per-user data (not roaming, so a
council's roaming profile never carries the database), logs and config. IT presets the
site configuration in one TOML file, ``fieldapp.toml``, in the machine-wide config folder
or beside the executable; per-user settings (``settings.toml`` in the user config folder,
written by the app) override it except for the keys IT lists in ``locked``.

For tests and unusual set-ups the folders can be redirected with environment variables:
``FIELDAPP_DATA_DIR`` (data; logs go to ``<data>/logs`` unless ``FIELDAPP_LOG_DIR``),
``FIELDAPP_CONFIG_DIR`` (per-user settings) and ``FIELDAPP_SITE_CONFIG`` (one or more
folders, separated by ``os.pathsep``, searched for ``fieldapp.toml`` instead of the usual ones).
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs
import tomli_w

from fieldapp.atomic import write_atomic
from fieldapp.errors import ConfigError
from fieldapp.limits import PHOTO_MAX_EDGE
from fieldapp.photo_policy import PhotoPolicy

APP_NAME = "Fieldapp"
APP_AUTHOR = "Fieldapp"
SITE_FILE = "fieldapp.toml"
USER_FILE = "settings.toml"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_MB = 1024 * 1024


@dataclass(frozen=True)
class AppPaths:
    """The folders Fieldapp uses on this machine for this user."""

    data_dir: Path
    log_dir: Path
    config_dir: Path
    site_config_dirs: tuple[Path, ...]

    @property
    def user_settings_file(self) -> Path:
        return self.config_dir / USER_FILE

    def site_config_files(self) -> list[Path]:
        """Every site config file that exists, in the order they are searched (the first is used)."""
        return [d / SITE_FILE for d in self.site_config_dirs if (d / SITE_FILE).is_file()]


def default_paths() -> AppPaths:
    """The platform folders, redirected by the FIELDAPP_* environment variables when set."""
    env = os.environ
    data = env.get("FIELDAPP_DATA_DIR")
    data_dir = Path(data) if data else Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR, roaming=False))
    logs = env.get("FIELDAPP_LOG_DIR")
    if logs:
        log_dir = Path(logs)
    elif data:
        log_dir = data_dir / "logs"
    else:
        log_dir = Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))
    config = env.get("FIELDAPP_CONFIG_DIR")
    config_dir = Path(config) if config else Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR, roaming=False))
    site = env.get("FIELDAPP_SITE_CONFIG")
    if site:
        site_dirs = tuple(Path(p) for p in site.split(os.pathsep) if p)
    else:
        site_dirs = _platform_site_dirs()
    return AppPaths(data_dir, log_dir, config_dir, site_dirs)


def _platform_site_dirs() -> tuple[Path, ...]:
    """Machine-wide config folders, then the folder of the installed executable."""
    multipath = platformdirs.site_config_dir(APP_NAME, APP_AUTHOR, multipath=True)
    dirs = [Path(p) for p in multipath.split(os.pathsep) if p]
    if getattr(sys, "frozen", False):
        # IT can ship the file inside the installer, next to fieldapp.exe.
        dirs.append(Path(sys.executable).resolve().parent)
    return tuple(dirs)


@dataclass(frozen=True)
class _Key:
    """One configuration key: its type, default, allowed range and what it means."""

    kind: type[Any]
    default: Any
    help: str
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False


KEYS: dict[str, _Key] = {
    "portal_url": _Key(str, None, "Address of the council's portal, e.g. https://fieldapp.council.example", optional=True),
    "ca_bundle": _Key(str, None, "PEM file of extra certificate authorities (a council proxy's CA)", optional=True),
    "sync_interval_minutes": _Key(int, 15, "Minutes between automatic syncs; 0 syncs only when asked", 0, 24 * 60),
    "photo_long_edge": _Key(int, 2560, "Long edge of stored photos, in pixels", 640, PHOTO_MAX_EDGE),
    "photo_quality": _Key(int, 85, "JPEG quality of stored photos", 50, 95),
    "photo_keep_gps": _Key(bool, True, "Keep the GPS position in photos (evidence of where they were taken)"),
    "photo_thumbnail_edge": _Key(int, 320, "Long edge of photo thumbnails, in pixels", 64, 1024),
    "photo_max_megapixels": _Key(int, 80, "Largest photo accepted, in megapixels", 1, 80),
    "photo_max_file_mb": _Key(int, 80, "Largest photo file accepted, in MB", 1, 500),
    "log_level": _Key(str, "INFO", "How much goes into the log file", choices=LOG_LEVELS),
    "letter_template": _Key(str, None, "The council's template for the tenant's letter (a TOML file)", optional=True),
}


@dataclass(frozen=True)
class Settings:
    """The effective settings: defaults, then the site file, then the user's own (unless locked)."""

    portal_url: str | None = None
    ca_bundle: str | None = None
    sync_interval_minutes: int = 15
    photo_policy: PhotoPolicy = field(default_factory=PhotoPolicy)
    log_level: str = "INFO"
    letter_template: Path | None = None      # None: the template Fieldapp ships
    locked: frozenset[str] = frozenset()
    site_file: Path | None = None
    user_file: Path | None = None
    sources: tuple[tuple[str, str], ...] = ()  # (key, "default" | "site" | "user") for the report
    #: Where the user's own settings are written (`remember_portal_url`); None: nowhere (tests, the demo).
    paths: AppPaths | None = None


def load_settings(paths: AppPaths | None = None) -> Settings:
    """Read the site file and the user's settings; raise ConfigError naming the file and line."""
    paths = paths or default_paths()
    values: dict[str, Any] = {name: key.default for name, key in KEYS.items()}
    sources = {name: "default" for name in KEYS}
    site_files = paths.site_config_files()
    site_file = site_files[0] if site_files else None
    locked: frozenset[str] = frozenset()
    if site_file is not None:
        site = _read_toml(site_file)
        locked = _locked(site.pop("locked", []), site_file)
        for name, value in _checked(site, site_file).items():
            values[name], sources[name] = value, "site"
    user_file = paths.user_settings_file if paths.user_settings_file.is_file() else None
    if user_file is not None:
        user = _read_toml(user_file)
        if "locked" in user:
            raise ConfigError(f"{_where(user_file, 'locked')}: only IT can lock settings, in the "
                              "site configuration file. Remove the 'locked' line from this file.")
        for name, value in _checked(user, user_file).items():
            if name not in locked:  # IT's choice wins; the user's value stays in the file, unused
                values[name], sources[name] = value, "user"
    policy = PhotoPolicy(
        long_edge=values["photo_long_edge"], quality=values["photo_quality"], keep_gps=values["photo_keep_gps"],
        thumbnail_edge=values["photo_thumbnail_edge"], max_source_pixels=values["photo_max_megapixels"] * 1_000_000,
        max_file_bytes=values["photo_max_file_mb"] * _MB)
    return Settings(
        portal_url=values["portal_url"], ca_bundle=values["ca_bundle"],
        sync_interval_minutes=values["sync_interval_minutes"], photo_policy=policy, log_level=values["log_level"],
        letter_template=_letter_template(values["letter_template"], sources["letter_template"], site_file, user_file),
        locked=locked, site_file=site_file, user_file=user_file, sources=tuple(sources.items()), paths=paths)


def _letter_template(value: str | None, source: str, site_file: Path | None, user_file: Path | None) -> Path | None:
    """The template's path; a relative one is beside the file that names it (IT ships both together)."""
    if not value:
        return None
    path = Path(value).expanduser()
    named_in = site_file if source == "site" else user_file
    return path if path.is_absolute() or named_in is None else named_in.parent / path


def save_user_setting(key: str, value: Any, paths: AppPaths | None = None) -> None:
    """Store one per-user setting (None removes it); refuses unknown, invalid and locked keys."""
    paths = paths or default_paths()
    target = paths.user_settings_file
    current = load_settings(paths)  # a broken file is reported, never silently overwritten
    if key in current.locked:
        raise ConfigError(f"The setting '{key}' is locked by your IT department ({current.site_file}); ask them to change it.")
    user = _read_toml(target) if target.is_file() else {}
    if value is None:
        user.pop(key, None)
    else:
        user[key] = value
        _checked({key: value}, target)
    write_atomic(target, tomli_w.dumps(user).encode("utf-8"))


def remember_portal_url(settings: Settings, url: str) -> Settings:
    """After a sign-in: the portal address becomes the user's own setting, so the next sign-in offers it.

    IT's locked address wins: it is never overwritten. Returns the settings as they now are.
    """
    if "portal_url" in settings.locked or settings.paths is None or settings.portal_url == url:
        return settings
    save_user_setting("portal_url", url, settings.paths)
    return replace(settings, portal_url=url, user_file=settings.paths.user_settings_file)


def _read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a syntax error becomes a ConfigError with the file, line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not a UTF-8 text file; save it as UTF-8 (or delete it to use the defaults).") from None
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read ({exc.strerror or exc}); check its permissions.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = _position(exc)
        raise ConfigError(f"{path}{where}: this is not valid TOML ({exc}). Fix that line, or delete the file "
                          "to go back to the defaults.") from None


def _position(exc: tomllib.TOMLDecodeError) -> str:
    """', line L, column C' from a TOML error (attributes on 3.14+, in the message before)."""
    line, column = getattr(exc, "lineno", None), getattr(exc, "colno", None)
    if line is None:
        found = re.search(r"line (\d+), column (\d+)", str(exc))
        if found:
            line, column = int(found.group(1)), int(found.group(2))
    return f", line {line}, column {column}" if line is not None else ""


def _checked(table: dict[str, Any], path: Path) -> dict[str, Any]:
    """Type- and range-check every key of a config table; unknown keys are errors (typos)."""
    checked: dict[str, Any] = {}
    for name, value in table.items():
        key = KEYS.get(name)
        if key is None:
            raise ConfigError(f"{_where(path, name)}: unknown setting '{name}'. "
                              f"Known settings: {', '.join(sorted(KEYS))}, locked.")
        checked[name] = _check_value(name, key, value, path)
    return checked


def _check_value(name: str, key: _Key, value: Any, path: Path) -> Any:
    where = f"{_where(path, name)}: '{name}'"
    # bool is a subclass of int in Python, so check it explicitly both ways
    if isinstance(value, bool) != (key.kind is bool) or not isinstance(value, key.kind):
        raise ConfigError(f"{where} must be {_kind_name(key.kind)}, not {value!r}. ({key.help}.)")
    if key.low is not None and key.high is not None and not key.low <= value <= key.high:
        raise ConfigError(f"{where} must be between {key.low} and {key.high}, not {value}. ({key.help}.)")
    if key.choices:
        value = value.upper()
        if value not in key.choices:
            raise ConfigError(f"{where} must be one of {', '.join(key.choices)}, not {value!r}.")
    if name == "portal_url":
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ConfigError(f"{where} must be a web address starting with https://, not {value!r}.")
        value = value.rstrip("/")
    return value


def _kind_name(kind: type) -> str:
    return {bool: "true or false", int: "a whole number", str: "text in quotes"}[kind]


def _locked(value: Any, path: Path) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{_where(path, 'locked')}: 'locked' must be a list of setting names, "
                          'e.g. locked = ["portal_url", "photo_keep_gps"].')
    unknown = sorted(set(value) - set(KEYS))
    if unknown:
        raise ConfigError(f"{_where(path, 'locked')}: 'locked' names unknown settings "
                          f"{', '.join(unknown)}. Known settings: {', '.join(sorted(KEYS))}.")
    return frozenset(value)


def _where(path: Path, name: str) -> str:
    """'file, line N' for the line setting ``name`` (just the file when it is not there yet)."""
    line = _line_of(path, name)
    return f"{path}, line {line}" if line else str(path)


def _line_of(path: Path, name: str) -> int | None:
    """The line where a key is set (tomllib reports positions only for syntax errors)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    pattern = re.compile(rf"^\s*[\"']?{re.escape(name)}[\"']?\s*=")
    return next((number for number, line in enumerate(lines, 1) if pattern.match(line)), None)
