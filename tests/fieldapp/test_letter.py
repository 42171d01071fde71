"""The tenant's letter: what it says, how it prints, and how it refuses bad input."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from fieldapp.letter import (
    LetterError,
    LetterPhotoError,
    LetterTemplateError,
    NoAssessmentError,
    letter_facts,
    load_template,
    render_letter,
)
from fieldapp.letter.images import PRINT_LONG_EDGE
from fieldapp.letter.pages import page_images
from letter_samples import OFFICER, REFERENCE, TENANTS, SampleVisit, sample_visit

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ISSUED = date(2026, 12, 2)


def _render(sample: SampleVisit, template_path: Path | None = None) -> bytes:
    facts = letter_facts(sample.visit_id, sample.visit, sample.case, sample.property, sample.residents,
                         sample.officer_name)
    return render_letter(facts, load_template(template_path), lambda p: sample.photo_bytes[p.sha256], ISSUED)


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


@pytest.fixture(scope="module")
def sample() -> SampleVisit:
    return sample_visit(photos=2)


@pytest.fixture(scope="module")
def letter(sample: SampleVisit) -> bytes:
    return _render(sample)


def test_letter_holds_every_part_the_tenant_needs(letter: bytes) -> None:
    """Council and contacts, tenant and address, date and officer, finding, work and deadlines, what to do, reference."""
    text = _text(letter)
    for part in ("Harrowmere Borough Council", "0300 123 4567", "housing@harrowmere.example",  # council, contact
                 *TENANTS, "Flat 7, Kestrel House", "HM4 2QT",                                # tenant and address
                 "Tuesday 1 December 2026", OFFICER,                                          # inspection, by whom
                 "significant hazard", "Damp and mould growth (in the bedroom and bathroom)",  # finding, hazards
                 "Black mould covers about two square metres",                                # the reasons
                 "Make your home safe", "Treat the mould and repair the leaking gutter",      # what we will do
                 "By Tuesday 8 December 2026", "By Tuesday 23 February 2027",                 # by when (clocks)
                 "emergency repairs line on 0300 123 4999", "call 999",                       # if things get worse
                 REFERENCE, "Photos from the inspection", "Black mould above the bedroom window"):
        assert part in text, part


def test_names_with_accents_print_in_an_embedded_font(letter: bytes) -> None:
    """Zofia Husár, Łukasz and Siobhán Ní Bhriain come out as written, from an embedded TrueType font."""
    text = _text(letter)
    assert "Zofia Husár" in text and "Łukasz Nowak" in text and "Siobhán Ní Bhriain" in text
    fonts = set()
    for page in PdfReader(io.BytesIO(letter)).pages:
        # Fonts that draw text (ReportLab also selects Helvetica in empty BT/ET blocks that draw nothing).
        blocks = re.findall(rb"BT(.*?)ET", page.get_contents().get_data(), re.S)
        used = {name for block in blocks if re.search(rb"T[jJ]", block)
                for name in re.findall(rb"/(F[\w+]+) [\d.]+ Tf", block)}
        for name in used:
            font = page["/Resources"]["/Font"]["/" + name.decode()].get_object()
            assert "/FontFile2" in font["/FontDescriptor"].get_object(), f"{font['/BaseFont']} is not embedded"
            fonts.add(str(font["/BaseFont"]))
    assert any("DejaVuSans" in f for f in fonts)


def test_photos_are_embedded_scaled_for_print() -> None:
    """A stored 2560 px photo goes into the letter at no more than the print size."""
    sample = sample_visit(photos=1, photo_size=(2560, 1920))
    reader = PdfReader(io.BytesIO(_render(sample)))
    sizes = [(image.image.width, image.image.height) for page in reader.pages for image in page.images]
    assert sizes and all(max(size) <= PRINT_LONG_EDGE for size in sizes)


def test_page_one_renders_and_is_saved_for_a_look(letter: bytes) -> None:
    """Page 1 rasterises as an A4 page (saved under tests/artifacts/ to be looked at)."""
    pages = page_images(letter, dpi=100)
    ARTIFACTS.mkdir(exist_ok=True)
    pages[0].save(ARTIFACTS / "letter-page1.png")
    width, height = pages[0].size
    assert abs(height / width - 297 / 210) < 0.01
    assert len(pages) >= 2


def test_same_visit_gives_the_same_bytes(sample: SampleVisit) -> None:
    """The PDF is invariant: rendering one visit twice gives identical bytes (no timestamps or random ids)."""
    assert _render(sample) == _render(sample)


def test_without_clocks_the_letter_gives_the_statutory_times() -> None:
    """Offline, before the portal set the clocks, the deadlines are the law's timescales in words."""
    text = _text(_render(sample_visit(photos=0, clocks=False)))
    assert "Within 5 working days of the inspection" in text
    assert "Within 12 weeks of the inspection" in text


def test_no_hazard_says_no_work_is_needed_and_how_to_disagree() -> None:
    """With no hazard found, the letter says so, and how to tell the council it got it wrong."""
    text = _text(_render(sample_visit(photos=0, finding="no_hazard", supplementary=False)))
    assert "We did not find anything in your home" in text
    assert "If you think we have got this wrong" in text
    assert "Make your home safe" not in text


def test_a_visit_without_an_assessment_is_refused_with_what_to_do(sample: SampleVisit) -> None:
    """No assessment: a NoAssessmentError saying to record the assessment, and no PDF."""
    visit = {k: v for k, v in sample.visit.items() if k != "assessment"}
    with pytest.raises(NoAssessmentError, match="record the assessment"):
        letter_facts(sample.visit_id, visit, sample.case, sample.property, sample.residents, OFFICER)


def test_a_visit_without_access_is_refused(sample: SampleVisit) -> None:
    """A no-access visit had no inspection to summarise: refused, naming the outcome."""
    visit = {**sample.visit, "outcome": "no_access"}
    with pytest.raises(LetterError, match="'no access'"):
        letter_facts(sample.visit_id, visit, sample.case, sample.property, sample.residents, OFFICER)


def test_a_missing_photo_names_the_photo(sample: SampleVisit) -> None:
    """A photo file that is not there stops the letter with the photo's caption and the fix (sync)."""
    facts = letter_facts(sample.visit_id, sample.visit, sample.case, sample.property, sample.residents, OFFICER)

    with pytest.raises(LetterPhotoError, match="Black mould above the bedroom window.*Sync") as caught:
        render_letter(facts, load_template(), lambda p: Path("/nonexistent") / p.sha256, ISSUED)
    assert caught.value.details["hashes"] == [sample.visit["photos"][0]["sha256"]]


def test_a_photo_that_is_not_an_image_is_refused(sample: SampleVisit) -> None:
    """Bytes that are no image: a LetterPhotoError saying to attach the photo again."""
    facts = letter_facts(sample.visit_id, sample.visit, sample.case, sample.property, sample.residents, OFFICER)
    with pytest.raises(LetterPhotoError, match="attach it again"):
        render_letter(facts, load_template(), lambda p: b"not a jpeg", ISSUED)


def test_the_councils_template_overrides_only_what_it_sets(tmp_path: Path, sample: SampleVisit) -> None:
    """IT's file changes the council's details and wording; everything else keeps the shipped text."""
    logo = tmp_path / "logo.png"
    Image.new("RGB", (300, 100), (0, 80, 160)).save(logo)
    own = tmp_path / "letter.toml"
    own.write_text('[council]\nname = "Brackenfield District Council"\nlogo = "logo.png"\n'
                   '[wording]\nclosing = "With best wishes"\n', encoding="utf-8")
    text = _text(_render(sample, own))
    assert "Brackenfield District Council" in text and "With best wishes" in text
    assert "0300 123 4567" in text and "emergency repairs line" in text


@pytest.mark.parametrize(("content", "names"), [
    ('[wording]\nif_worse = "Call $emergancy_phone"\n', ("wording.if_worse", "$emergancy_phone")),
    ('[council]\nfax = "01234"\n', ("council.fax", "unknown key")),
    ('[council]\nlogo = "missing.png"\n', ("council.logo", "does not exist")),
    ('[council]\nname = ""\n', ("council.name", "must be filled in")),
    ('[letter]\nmax_photos = 40\n', ("letter.max_photos", "0 to 12")),
    ('[wording\n', ("not valid TOML",)),
])
def test_a_broken_template_names_the_file_and_the_key(tmp_path: Path, content: str, names: tuple[str, ...]) -> None:
    """Each template mistake is a LetterTemplateError naming the file and what to fix."""
    own = tmp_path / "letter.toml"
    own.write_text(content, encoding="utf-8")
    with pytest.raises(LetterTemplateError) as caught:
        load_template(own)
    assert str(own) in caught.value.message
    for name in names:
        assert name in caught.value.message


def test_site_config_names_the_template_beside_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """IT's fieldapp.toml may name the letter template relative to itself; the laptop reads it from there."""
    from fieldapp.config import default_paths, load_settings

    site = tmp_path / "site"
    site.mkdir()
    (site / "fieldapp.toml").write_text('letter_template = "letter.toml"\n', encoding="utf-8")
    (site / "letter.toml").write_text('[council]\nname = "Brackenfield District Council"\n', encoding="utf-8")
    monkeypatch.setenv("FIELDAPP_SITE_CONFIG", str(site))
    monkeypatch.setenv("FIELDAPP_CONFIG_DIR", str(tmp_path / "user"))
    settings = load_settings(default_paths())
    assert settings.letter_template == site / "letter.toml"
    assert load_template(settings.letter_template).council.name == "Brackenfield District Council"
