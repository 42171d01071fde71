"""Settings: platform folders, site config preset by IT, per-user overrides, locks, clear errors, logs."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from fieldapp import config
from fieldapp.config import AppPaths, default_paths, load_settings, save_user_setting
from fieldapp.errors import ConfigError
from fieldapp.logs import setup_logging
from fieldapp.resources import package_path, resource_path


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    """Folders in a temporary directory, with one site config folder."""
    site = tmp_path / "site"
    site.mkdir()
    return AppPaths(tmp_path / "data", tmp_path / "logs", tmp_path / "user", (site,))


def write_site(paths: AppPaths, text: str) -> Path:
    path = paths.site_config_dirs[0] / "fieldapp.toml"
    path.write_text(text, encoding="utf-8")
    return path


def write_user(paths: AppPaths, text: str) -> Path:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.user_settings_file.write_text(text, encoding="utf-8")
    return paths.user_settings_file


def test_defaults_without_any_file(paths: AppPaths) -> None:
    """With no config files the documented defaults apply."""
    settings = load_settings(paths)
    assert settings.portal_url is None and settings.sync_interval_minutes == 15 and settings.log_level == "INFO"
    assert settings.photo_policy.long_edge == 2560 and settings.photo_policy.keep_gps is True
    assert settings.site_file is None and settings.user_file is None and settings.locked == frozenset()


def test_site_file_presets_everything(paths: AppPaths) -> None:
    """Every key IT writes in the site file reaches the settings and the photo policy."""
    site = write_site(paths, """
portal_url = "https://fieldapp.council.example/"
ca_bundle = "C:/Council/ca.pem"
sync_interval_minutes = 30
photo_long_edge = 2048
photo_quality = 80
photo_keep_gps = false
photo_thumbnail_edge = 256
photo_max_megapixels = 50
photo_max_file_mb = 40
log_level = "debug"
""")
    settings = load_settings(paths)
    assert settings.portal_url == "https://fieldapp.council.example"
    assert settings.ca_bundle == "C:/Council/ca.pem" and settings.sync_interval_minutes == 30
    policy = settings.photo_policy
    assert (policy.long_edge, policy.quality, policy.keep_gps, policy.thumbnail_edge) == (2048, 80, False, 256)
    assert policy.max_source_pixels == 50_000_000 and policy.max_file_bytes == 40 * 1024 * 1024
    assert settings.log_level == "DEBUG" and settings.site_file == site
    assert dict(settings.sources)["portal_url"] == "site"


def test_user_overrides_site_except_locked(paths: AppPaths) -> None:
    """The user's settings win over the site file, except for keys IT locked."""
    write_site(paths, 'portal_url = "https://a.example"\nsync_interval_minutes = 30\nlocked = ["portal_url"]\n')
    write_user(paths, 'portal_url = "https://evil.example"\nsync_interval_minutes = 5\n')
    settings = load_settings(paths)
    assert settings.portal_url == "https://a.example"
    assert settings.sync_interval_minutes == 5
    assert settings.locked == frozenset({"portal_url"})
    assert dict(settings.sources) == {**dict(settings.sources), "portal_url": "site", "sync_interval_minutes": "user"}


def test_save_user_setting_round_trips_and_refuses_locked(paths: AppPaths) -> None:
    """save_user_setting writes TOML the loader reads back; a locked key is refused naming IT."""
    write_site(paths, 'locked = ["photo_keep_gps"]\n')
    save_user_setting("sync_interval_minutes", 60, paths)
    assert load_settings(paths).sync_interval_minutes == 60
    save_user_setting("sync_interval_minutes", None, paths)
    assert load_settings(paths).sync_interval_minutes == 15
    with pytest.raises(ConfigError, match="locked by your IT"):
        save_user_setting("photo_keep_gps", False, paths)
    assert "photo_keep_gps" not in paths.user_settings_file.read_text()


def test_save_user_setting_type_checks(paths: AppPaths) -> None:
    """A value of the wrong type is refused and the file is left as it was."""
    with pytest.raises(ConfigError, match="whole number"):
        save_user_setting("sync_interval_minutes", "often", paths)
    assert not paths.user_settings_file.exists()


def test_broken_toml_names_file_line_and_column(paths: AppPaths) -> None:
    """A syntax error reports the file, the line and the column."""
    site = write_site(paths, 'portal_url = "https://a.example"\nsync_interval_minutes = = 3\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(paths)
    message = str(caught.value)
    assert str(site) in message and "line 2" in message and "column" in message


@pytest.mark.parametrize("line, expected", [
    ("sync_interval_minutes = \"15\"", "whole number"),
    ("sync_interval_minutes = true", "whole number"),
    ("photo_keep_gps = 1", "true or false"),
    ("photo_quality = 101", "between 50 and 95"),
    ("log_level = \"LOUD\"", "one of DEBUG"),
    ("portal_url = \"fieldapp.council\"", "https://"),
    ("sync_intervall_minutes = 3", "unknown setting"),
    ("locked = \"portal_url\"", "list of setting names"),
    ("locked = [\"portal\"]", "unknown settings portal"),
])
def test_bad_values_name_file_and_line(paths: AppPaths, line: str, expected: str) -> None:
    """Each wrong type, range, choice, URL, unknown key or lock is a ConfigError naming file and line."""
    site = write_site(paths, f"# IT settings\n\n{line}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(paths)
    assert f"{site}, line 3" in str(caught.value)
    assert expected in str(caught.value)


def test_user_file_cannot_lock(paths: AppPaths) -> None:
    """Only the site file may lock keys."""
    write_user(paths, 'locked = ["portal_url"]\n')
    with pytest.raises(ConfigError, match="only IT can lock"):
        load_settings(paths)


def test_first_site_folder_wins(tmp_path: Path) -> None:
    """With several site folders the first holding fieldapp.toml is used."""
    first, second = tmp_path / "a", tmp_path / "b"
    for folder, url in ((first, "https://first.example"), (second, "https://second.example")):
        folder.mkdir()
        (folder / "fieldapp.toml").write_text(f'portal_url = "{url}"\n')
    paths = AppPaths(tmp_path / "d", tmp_path / "l", tmp_path / "u", (tmp_path / "missing", first, second))
    assert load_settings(paths).portal_url == "https://first.example"


def test_environment_redirects_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FIELDAPP_DATA_DIR / _CONFIG_DIR / _SITE_CONFIG move the folders (logs follow the data)."""
    monkeypatch.setenv("FIELDAPP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FIELDAPP_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("FIELDAPP_SITE_CONFIG", f"{tmp_path / 's1'}{config.os.pathsep}{tmp_path / 's2'}")
    monkeypatch.delenv("FIELDAPP_LOG_DIR", raising=False)
    paths = default_paths()
    assert paths == AppPaths(tmp_path / "data", tmp_path / "data" / "logs", tmp_path / "cfg",
                             (tmp_path / "s1", tmp_path / "s2"))


def test_platform_folders_are_per_user_and_named_fieldapp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without overrides the folders come from platformdirs under 'Fieldapp', data not roaming."""
    for name in ("FIELDAPP_DATA_DIR", "FIELDAPP_CONFIG_DIR", "FIELDAPP_SITE_CONFIG", "FIELDAPP_LOG_DIR"):
        monkeypatch.delenv(name, raising=False)
    paths = default_paths()
    import platformdirs

    assert paths.data_dir == Path(platformdirs.user_data_dir("Fieldapp", "Fieldapp", roaming=False))
    assert paths.log_dir == Path(platformdirs.user_log_dir("Fieldapp", "Fieldapp"))
    assert "Fieldapp" in str(paths.config_dir) and paths.site_config_dirs


def test_frozen_app_also_reads_config_beside_executable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """In a PyInstaller bundle the folder of the executable is searched after the machine-wide one."""
    monkeypatch.delenv("FIELDAPP_SITE_CONFIG", raising=False)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "fieldapp.exe"))
    assert default_paths().site_config_dirs[-1] == tmp_path.resolve()


def test_logs_rotate_in_log_folder(tmp_path: Path) -> None:
    """setup_logging writes to fieldapp.log in the log folder, rotates, and does not double handlers."""
    from fieldapp import logs

    path = setup_logging(tmp_path / "logs", "INFO")
    path = setup_logging(tmp_path / "logs", "DEBUG")  # a second call replaces the handler
    root = logging.getLogger()
    ours = [h for h in root.handlers if isinstance(h, logs._FieldappHandler)]
    assert len(ours) == 1
    ours[0].maxBytes = 2000
    try:
        for i in range(100):
            logging.getLogger("fieldapp.test").info("line %d of the rotation test, padded to fill the file", i)
        assert path == tmp_path / "logs" / "fieldapp.log" and path.exists()
        assert (tmp_path / "logs" / "fieldapp.log.1").exists()
        assert "rotation test" in path.read_text()
    finally:
        root.removeHandler(ours[0])
        ours[0].close()


def test_resource_paths_unfrozen_and_frozen(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Resources resolve to the package folder normally and under sys._MEIPASS when frozen."""
    import resources

    assert resource_path("x.svg") == Path(resources.__file__).parent / "x.svg"
    assert package_path("fieldapp", "migrations").parent == Path(config.__file__).parent
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resource_path("a", "b.qss") == tmp_path / "resources" / "a" / "b.qss"
    assert package_path("fieldapp", "migrations") == tmp_path / "fieldapp" / "migrations"


def test_site_config_example_is_valid_and_documents_every_key(paths: AppPaths) -> None:
    """resources/site-config.example.toml loads as a site file and mentions every setting."""
    example = resource_path("site-config.example.toml")
    text = example.read_text(encoding="utf-8")
    for name in (*config.KEYS, "locked"):
        assert f"{name} =" in text, name
    write_site(paths, text)
    settings = load_settings(paths)
    assert settings.portal_url == "https://fieldapp.council.example" and "portal_url" in settings.locked
