"""Sign-in remembers the portal address in the user's settings, and IT's locked preset wins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from factory import screenshot
from fieldapp.config import AppPaths, load_settings
from ui.app import ensure_app
from ui.context import AppContext
from ui.signin import SignInDialog


def _paths(root: Path, site_toml: str | None = None) -> AppPaths:
    """This test's own folders; a site file with `site_toml` when given (as IT would ship it)."""
    site = root / "site"
    site.mkdir(parents=True)
    if site_toml is not None:
        (site / "fieldapp.toml").write_text(site_toml, encoding="utf-8")
    return AppPaths(root / "data", root / "logs", root / "config", (site,))


def _officer(portal: Any) -> Any:
    return next(a for a in portal.accounts if a.role == "officer")


def _dialog(qtbot: Any, ctx: AppContext) -> SignInDialog:
    ensure_app()  # styled as in the app
    dialog = SignInDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _sign_in(qtbot: Any, dialog: SignInDialog, account: Any) -> None:
    dialog.username.setText(account.username)
    dialog.password.setText(account.password)
    with qtbot.waitSignal(dialog.sig_signed_in, timeout=20000):
        dialog.sign_in_button.click()


def test_the_address_signed_in_to_is_offered_next_time(qtbot: Any, portal_sqlite: Any, store_factory: Any,
                                                        tasks: Any, tmp_path: Path, artifacts: Path) -> None:
    """With no site preset, the address typed at a successful sign-in is saved and prefilled on the next start."""
    paths = _paths(tmp_path)
    ctx = AppContext(store=store_factory("first"), tasks=tasks, settings=load_settings(paths))
    first = _dialog(qtbot, ctx)
    assert first.url.text() == "" and not first.url.isReadOnly()
    first.url.setText(portal_sqlite.url + "/")
    _sign_in(qtbot, first, _officer(portal_sqlite))
    assert load_settings(paths).portal_url == portal_sqlite.url   # written to the user's settings file
    assert ctx.settings.portal_url == portal_sqlite.url

    # The next start: a fresh data folder, no session, settings read again from disk.
    later = AppContext(store=store_factory("later"), tasks=tasks, settings=load_settings(paths))
    second = _dialog(qtbot, later)
    assert second.url.text() == portal_sqlite.url and not second.url.isReadOnly()
    screenshot(second, artifacts / "ui_sign_in_remembered.png")


def test_a_locked_site_address_wins_and_is_never_overwritten(qtbot: Any, portal_sqlite: Any, store_factory: Any,
                                                             tasks: Any, tmp_path: Path) -> None:
    """IT's locked address is shown read-only over the user's own, and signing in leaves the user's file alone."""
    paths = _paths(tmp_path, f'portal_url = "{portal_sqlite.url}"\nlocked = ["portal_url"]\n')
    user_file = paths.user_settings_file
    user_file.parent.mkdir(parents=True)
    user_file.write_text('portal_url = "https://old.example.gov.uk"\n', encoding="utf-8")
    ctx = AppContext(store=store_factory("locked"), tasks=tasks, settings=load_settings(paths))
    dialog = _dialog(qtbot, ctx)
    assert dialog.url.text() == portal_sqlite.url and dialog.url.isReadOnly()
    _sign_in(qtbot, dialog, _officer(portal_sqlite))
    assert user_file.read_text(encoding="utf-8") == 'portal_url = "https://old.example.gov.uk"\n'
    assert load_settings(paths).portal_url == portal_sqlite.url


def test_an_unlocked_site_address_is_offered_until_the_user_signs_in_elsewhere(
        qtbot: Any, portal_sqlite: Any, store_factory: Any, tasks: Any, tmp_path: Path) -> None:
    """An unlocked site preset is only a default: the address the officer last signed in to replaces it."""
    paths = _paths(tmp_path, 'portal_url = "https://preset.example.gov.uk"\n')
    ctx = AppContext(store=store_factory("preset"), tasks=tasks, settings=load_settings(paths))
    dialog = _dialog(qtbot, ctx)
    assert dialog.url.text() == "https://preset.example.gov.uk" and not dialog.url.isReadOnly()
    dialog.url.setText(portal_sqlite.url)
    _sign_in(qtbot, dialog, _officer(portal_sqlite))
    assert load_settings(paths).portal_url == portal_sqlite.url
