"""A visit worth writing to the tenant about, in protocol shapes, for the letter's tests and benchmark.

Names a council meets ("Zofia Husár", "Łukasz", "Siobhán Ní Bhriain") are in it on purpose:
the letter must print them. Photos are real JPEGs at the stored size, made with Pillow.
"""

from __future__ import annotations

import hashlib
import io
import random
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

TENANTS = ("Zofia Husár", "Łukasz Nowak")
OFFICER = "Siobhán Ní Bhriain"
REFERENCE = "DM-2026-00042"


def photo_jpeg(seed: int, size: tuple[int, int] = (2560, 1920)) -> bytes:
    """A photo-like JPEG (gradient, shapes and grain, so it compresses like a real one)."""
    rng = random.Random(seed)
    small = Image.new("RGB", (size[0] // 8, size[1] // 8))
    draw = ImageDraw.Draw(small)
    for y in range(small.height):
        shade = 120 + int(80 * y / small.height)
        draw.line([(0, y), (small.width, y)], fill=(shade, shade - 10, shade - 30))
    for _ in range(12):
        x, y = rng.randrange(small.width), rng.randrange(small.height)
        r = rng.randrange(4, small.width // 4)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(30 + rng.randrange(40), 50 + rng.randrange(40), 30))
    image = small.resize(size, Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(2))
    noise = Image.effect_noise(size, 24).convert("RGB")
    image = Image.blend(image, noise, 0.12)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


@dataclass
class SampleVisit:
    """One visit with its case, property, residents and photo bytes (by sha256)."""

    visit_id: str
    visit: dict[str, Any]
    case: dict[str, Any]
    property: dict[str, Any]
    residents: list[dict[str, Any]]
    officer_name: str = OFFICER
    photo_bytes: dict[str, bytes] = field(default_factory=dict)

    def write_photos(self, folder: Path) -> dict[str, Path]:
        """The photos as files named by hash; returns sha256 -> path."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = {}
        for sha, data in self.photo_bytes.items():
            paths[sha] = folder / f"{sha}.jpg"
            paths[sha].write_bytes(data)
        return paths


def sample_visit(photos: int = 2, *, photo_size: tuple[int, int] = (1280, 960), finding: str = "significant",
                 clocks: bool = True, supplementary: bool = True) -> SampleVisit:
    """A completed damp and mould inspection with an assessment, ``photos`` photos and the case's clocks."""
    case_id, property_id = str(uuid.uuid4()), str(uuid.uuid4())
    residents = [{"property_id": property_id, "full_name": name, "phone": None, "email": None,
                  "vulnerabilities": [], "warnings": []} for name in TENANTS]
    photo_bytes: dict[str, bytes] = {}
    entries = []
    for index in range(photos):
        data = photo_jpeg(index + 1, photo_size)
        sha = hashlib.sha256(data).hexdigest()
        photo_bytes[sha] = data
        entries.append({"id": str(uuid.uuid4()), "sha256": sha, "content_type": "image/jpeg", "bytes": len(data),
                        "width": photo_size[0], "height": photo_size[1],
                        "caption": ["Black mould above the bedroom window", "Bathroom ceiling",
                                    "Condensation on the kitchen window", "Behind the wardrobe",
                                    "Extractor fan not working", "Hallway ceiling"][index % 6]})
    assessment = {
        "finding": finding,
        "hazards": ["Damp and mould growth"] if finding != "no_hazard" else [],
        "reasons": "Black mould covers about two square metres of the bedroom wall, where a child sleeps.",
        "household_factors": ["a child under five", "asthma"],
        "make_safe_done": False,
        "safety_work": "Treat the mould and repair the leaking gutter above the bedroom.",
        "supplementary_work": "Fit a humidity-controlled extractor fan in the bathroom." if supplementary else None,
        "alternative_accommodation": False,
    }
    visit = {
        "case_id": case_id, "officer_id": str(uuid.uuid4()), "template_id": str(uuid.uuid4()),
        "template_version": 1, "started_at": "2026-12-01T10:02:00Z", "completed_at": "2026-12-01T10:48:00Z",
        "outcome": "completed", "answers": {}, "notes": "",
        "hazards": [{"hazard": "Damp and mould growth", "band": "C", "location": "Bedroom", "notes": ""},
                    {"hazard": "Damp and mould growth", "band": "C", "location": "Bathroom", "notes": ""}],
        "photos": entries, "assessment": assessment,
    }
    case_clocks = [
        {"stage": "investigate", "due_at": "2026-12-10T23:59:59Z", "met_at": "2026-12-01T10:48:00Z",
         "basis": "10 working days from awareness (significant hazard)"},
        {"stage": "summary", "due_at": "2026-12-04T23:59:59Z", "met_at": None,
         "basis": "3 working days from the investigation"},
        {"stage": "safety_work", "due_at": "2026-12-08T23:59:59Z", "met_at": None,
         "basis": "5 working days from the investigation"},
    ]
    if supplementary:
        case_clocks += [
            {"stage": "supplementary_start", "due_at": "2026-12-08T23:59:59Z", "met_at": None,
             "basis": "5 working days from the investigation"},
            {"stage": "supplementary_works", "due_at": "2027-02-23T23:59:59Z", "met_at": None,
             "basis": "12 weeks from the investigation"},
        ]
    case = {"reference": REFERENCE, "case_type": "damp_mould", "status": "visited", "priority": "urgent",
            "summary": "Mould in the bedroom", "description": "", "opened_at": "2026-11-26T09:00:00Z",
            "due_at": "2026-12-04T23:59:59Z", "property_id": property_id,
            "resident_ids": [str(uuid.uuid4()) for _ in residents], "assigned_officer_id": None,
            "team_id": str(uuid.uuid4()), "clocks": case_clocks if clocks else []}
    prop = {"uprn": "100023336956", "address_lines": ["Flat 7, Kestrel House", "14 Mill Lane"],
            "town": "Harrowmere", "postcode": "HM4 2QT", "property_type": "flat", "bedrooms": 2}
    return SampleVisit(visit_id=str(uuid.uuid4()), visit=visit, case=case, property=prop, residents=residents,
                       photo_bytes=photo_bytes)
