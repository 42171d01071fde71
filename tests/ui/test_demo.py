"""`fieldapp demo`: an in-process portal on SQLite, seeded, signed in and synced."""

from __future__ import annotations

from pathlib import Path

from fieldapp.cli import main


def test_demo_sets_up_signs_in_and_syncs_twice_on_one_folder(tmp_path: Path, capsys: object) -> None:
    """The demo seeds once, signs in as the chosen role and syncs; a second run reuses the folder."""
    assert main(["demo", "--no-window", "--data-dir", str(tmp_path), "--cases", "20"]) == 0
    assert main(["demo", "--no-window", "--data-dir", str(tmp_path), "--role", "lead"]) == 0
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert err.count("Seeding") == 1
    assert "officer" in err and "lead" in err and "First sync" in err
    assert (tmp_path / "portal" / "portal.sqlite3").exists()
