"""``fieldapp-portal import-cases FILE`` against the portal database, on both backends."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from portal.cli import main
from tests.portal.conftest import Portal, World, build_world
from tests.portal.test_case_import import _row


@pytest.fixture
def any_world(any_portal: Portal) -> World:
    return build_world(any_portal)


def _csv(world: World, refs: list[str], bad: str) -> bytes:
    ids = world.ids
    lines = ["external_ref,reference,case_type,priority,summary,opened_at,property_id,resident_ids,assigned_officer_id,team_id,reported_hazards"]
    lines += [f'{ref},R-{ref},damp_mould,routine,"Mould, kitchen",2026-03-02T09:00:00Z,{ids["prop1"]},{ids["res1"]},{ids["officer1"]},{ids["team_a"]},'
              for ref in refs]
    lines.append(f"{bad},R-{bad},damp_mould,routine,Leak,yesterday,{ids['prop1']},,,{ids['team_a']},")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def test_csv_in_batches_with_a_summary_and_the_rejected_rows(any_portal: Portal, any_world: World, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 1 when a row is rejected, which the summary lists; once it is fixed the replay creates it alone and exits 0."""
    refs = [f"CLI-{uuid.uuid4().hex[:10]}" for _ in range(5)]
    bad = f"CLI-{uuid.uuid4().hex[:10]}"
    path = tmp_path / "cases.csv"
    path.write_bytes(_csv(any_world, refs, bad))
    url = any_portal.settings.database_url
    assert main(["import-cases", str(path), "--database-url", url, "--batch-size", "2"]) == 1
    captured = capsys.readouterr()
    assert "Imported cases.csv: 5 created, 0 updated, 0 unchanged, 1 rejected." in captured.out
    assert "row 6: Correct opened_at: Give an ISO-8601 timestamp" in captured.out
    assert "Importing" in captured.err and "6/6" in captured.err  # the progress bar
    path.write_bytes(_csv(any_world, refs, bad).replace(b"yesterday", b"2026-03-02T10:00:00Z"))
    assert main(["import-cases", str(path), "--database-url", url, "--quiet"]) == 0
    assert "1 created, 0 updated, 5 unchanged, 0 rejected" in capsys.readouterr().out  # the fixed row, the rest as they were


def test_json_told_by_its_content_and_a_file_that_cannot_be_read(sqlite_portal: Portal, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A list of cases without a .json name is still JSON; an unreadable file imports nothing and exits 2."""
    world = build_world(sqlite_portal)
    path = tmp_path / "export.txt"
    path.write_text(json.dumps([_row(world, f"J-{uuid.uuid4().hex[:8]}")]))
    url = sqlite_portal.settings.database_url
    assert main(["import-cases", str(path), "--database-url", url, "--quiet"]) == 0
    assert "1 created" in capsys.readouterr().out
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert main(["import-cases", str(broken), "--database-url", url]) == 2
    assert "Nothing imported: The file is not valid JSON" in capsys.readouterr().err
    assert main(["import-cases", str(tmp_path / "absent.csv"), "--database-url", url]) == 2
    assert "Cannot read" in capsys.readouterr().err
