"""The page-end walk: sources read a chunk at a time find the same page as reading them whole."""

from __future__ import annotations

import random

import pytest

from portal.services import pull
from portal.services.pull import _candidates, _cut, _Row, _Walk


def _source(rows: list[_Row], calls: list[int]):  # type: ignore[no-untyped-def]
    def fetch(after: int, count: int) -> list[_Row]:
        calls.append(count)
        return [row for row in rows if row.seq > after][:count]
    return fetch


@pytest.mark.parametrize("seed", range(40))
def test_chunked_walks_cut_the_page_where_whole_sources_do(seed: int) -> None:
    """Interleaved sources of many sizes (one record reached by two of them): same cut and rows up to it."""
    rng = random.Random(seed)
    limit = rng.choice([1, 3, 50, 200, 1000])
    cursor = rng.randrange(0, 50)
    seqs = list(range(1, rng.randrange(2, 4000)))
    sources: list[list[_Row]] = [[] for _ in range(rng.randrange(1, 7))]
    for seq in seqs:
        if rng.random() < 0.2:
            continue  # another caller's row: no source has it
        owners = rng.sample(range(len(sources)), rng.choice([1, 1, 1, 2]) if len(sources) > 1 else 1)
        for owner in owners:
            sources[owner].append(_Row(seq, "resident", f"r{seq}"))
    everything = {row for rows in sources for row in rows if row.seq > cursor}
    calls: list[int] = []
    found = _candidates([_Walk(_source(rows, calls), cursor, limit) for rows in sources], limit)
    assert found <= everything
    cut = _cut(found, limit)
    assert cut == _cut(everything, limit)
    assert {row for row in found if cut is None or row.seq <= cut} == {row for row in everything if cut is None or row.seq <= cut}
    assert all(0 < count <= limit + 1 for count in calls)


def test_a_source_reads_little_past_its_share_of_the_page() -> None:
    """Four sources taking turns fill a page of 1,000 reading about 1,000 rows, not 1,000 each."""
    sources = [[_Row(seq, "case", str(seq)) for seq in range(1, 20_000) if seq % 4 == which] for which in range(4)]
    read: list[int] = []
    walks = [_Walk(_source(rows, read), 0, 1000) for rows in sources]
    _candidates(walks, 1000)
    assert sum(walk.taken for walk in walks) < 1.5 * 1000
    assert pull._FIRST_CHUNK < 1000  # the test means something only while sources start below the page
