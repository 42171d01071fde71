"""Shared set-up of the store tests: a signed-in store filled with a small world, and photo files."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

import factories as f
from fieldapp import FieldStore
from fieldapp.types import UserInfo, Visit


@dataclass
class Filled:
    """A signed-in officer's store and the world it holds."""

    store: FieldStore
    world: f.World

    @property
    def case_id(self) -> str:
        return self.world.case_ids[0]

    def draft(self, **edits: Any) -> Visit:
        """A new draft on the first case, with ``edits`` saved."""
        visit = self.store.start_visit(self.case_id, self.world.template_id)
        return self.store.update_visit(visit.id, **edits) if edits else visit

    def complete(self, **extra: Any) -> Visit:
        """A draft that may be submitted."""
        answers = {"mould": True, "room": "Bathroom", **extra.pop("answers", {})}
        return self.draft(answers=answers, outcome="completed", **extra)


def officer_info(world: f.World) -> UserInfo:
    """The world's officer as the portal's login answer names them."""
    return UserInfo(id=world.officer_id, username="olivia", display_name="Olivia Officer", role="officer",
                    team_id=world.team_id)


def lead_info(world: f.World) -> UserInfo:
    """The world's lead."""
    return UserInfo(id=world.lead_id, username="liam", display_name="Liam Lead", role="lead",
                    team_id=world.team_id)


def filled_store(folder: Path, *, lead: bool = False, cases: int = 3, photo_policy: Any = None) -> Filled:
    """Open a store in ``folder``, sign in and apply a small world."""
    store = FieldStore.open(folder, photo_policy=photo_policy)
    world = f.world(cases)
    store.sign_in(lead_info(world) if lead else officer_info(world), "https://portal.example.gov.uk")
    store.apply_changes(world.changes, 100)
    return Filled(store, world)


def make_jpeg(path: Path, seed: int = 1, size: tuple[int, int] = (320, 240)) -> Path:
    """A small real JPEG with noisy content (so different seeds hash differently)."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    pixels = image.load()
    for _ in range(400):
        pixels[rng.randrange(size[0]), rng.randrange(size[1])] = (rng.randrange(256), 0, rng.randrange(256))
    image.save(path, "JPEG", quality=90)
    return path
