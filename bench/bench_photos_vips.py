"""Benchmark: the import's pixel work done by libvips (pyvips) against Pillow only decoding the same JPEG (goal <= 2).

Issue 17 point 5 allows libvips for the pixels if the EXIF rules stay as they are, so
the timed vips step is what an import through it would do: Pillow opens the file and
reads its EXIF (it keeps every metadata decision), then libvips decodes the 12-megapixel
JPEG, shrinks it to the policy's long edge (Lanczos 3), turns it upright by the EXIF
orientation Pillow read, encodes it at the policy's quality without any metadata (4:2:0),
makes the 320 px thumbnail, and the stored bytes are hashed. Writing the two files
(fsynced, as `write_prepared` does) is timed apart and added for the import's figure.
Today's Pillow import (`prepare` and `write_prepared`) runs in the same rounds, for comparison.

Both steps run on the main thread, interleaved file by file, ROUNDS times; medians of
wall time, processor time (all threads: libvips runs its own pool, as many threads as
cores) and minor page faults, with the load average beside each figure. libvips'
operation cache is switched off, so no round reuses an earlier round's result.

Without pyvips (or without a libvips it can load) it says so and exits 0.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import os
import statistics
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, ImageStat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_photos import Run  # noqa: E402  (timing steps like that bench)
from photo_samples import save_photo  # noqa: E402

from fieldapp.photo_policy import PhotoPolicy  # noqa: E402
from fieldapp.photo_files import scratch_dir  # noqa: E402
from fieldapp.photos import PreparedPhoto, prepare, write_prepared  # noqa: E402

try:
    import pyvips
except (ImportError, OSError) as exc:  # OSError: pyvips is there but no libvips it can load
    pyvips = None
    _MISSING = f"{type(exc).__name__}: {exc}"

ROUNDS = 7
_ORIENTATION = 0x0112
# libvips' turn for each EXIF orientation: (rotation, flip afterwards), the same table as ImageOps.exif_transpose.
_TURNS: dict[int, tuple[str | None, str | None]] = {
    2: (None, "horizontal"), 3: ("d180", None), 4: (None, "vertical"),
    5: ("d90", "horizontal"), 6: ("d90", None), 7: ("d270", "horizontal"), 8: ("d270", None),
}


def _pillow_decode(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.load()


def _upright(picture: Any, orientation: int) -> Any:
    rotation, flip = _TURNS.get(orientation, (None, None))
    if rotation:
        picture = picture.rot(rotation)
    if flip:
        picture = picture.flip(flip)
    return picture


def _jpeg(picture: Any, quality: int) -> bytes:
    """``picture`` as a baseline 4:2:0 JPEG without any metadata."""
    strip: dict[str, Any] = {"keep": "none"} if pyvips.at_least_libvips(8, 15) else {"strip": True}
    return bytes(picture.jpegsave_buffer(Q=quality, subsample_mode="on", **strip))


def _vips_prepared(source: Path, data: bytes, policy: PhotoPolicy) -> PreparedPhoto:
    """What a libvips import would make of one photo: Pillow reads the header and EXIF, libvips does the pixels."""
    with Image.open(io.BytesIO(data)) as header:
        orientation = header.getexif().get(_ORIENTATION, 1)
        width, height = header.size
    scale = min(1.0, policy.long_edge / max(width, height))
    loaded = pyvips.Image.new_from_buffer(data, "", access="sequential", fail=True)
    # Rendered into memory once: the stored photo and the thumbnail are both made from it.
    scaled = loaded.resize(scale, kernel="lanczos3").copy_memory()
    picture = _upright(scaled, orientation if isinstance(orientation, int) else 1)
    stored = _jpeg(picture, policy.quality)
    thumb = picture.resize(policy.thumbnail_edge / max(picture.width, picture.height), kernel="lanczos3")
    thumbnail = bytes(thumb.jpegsave_buffer(Q=80, keep="none") if pyvips.at_least_libvips(8, 15)
                      else thumb.jpegsave_buffer(Q=80, strip=True))
    return PreparedPhoto(source, hashlib.sha256(stored).hexdigest(), "image/jpeg", stored, thumbnail,
                         picture.width, picture.height, None)


def _pillow_import(source: Path, policy: PhotoPolicy, photos: Path) -> None:
    """Today's import, as the store runs it."""
    write_prepared(prepare(source, policy, scratch_dir(photos)), photos)


def _difference(source: Path, prepared: PreparedPhoto, policy: PhotoPolicy) -> str:
    """How the libvips photo compares with today's import of the same file: size, and mean difference in levels."""
    today = prepare(source, policy)
    with Image.open(io.BytesIO(today.data)) as ours, Image.open(io.BytesIO(prepared.data)) as theirs:
        if ours.size != theirs.size:
            return f"{theirs.size} against today's {ours.size}: NOT THE SAME PICTURE"
        levels = ImageStat.Stat(ImageChops.difference(ours.convert("RGB"), theirs.convert("RGB"))).mean
    return f"{theirs.size[0]}x{theirs.size[1]} as today's import, mean difference {sum(levels) / len(levels):.1f} levels"


def _line(run: Run, name: str) -> str:
    wall, cpu, faults = run.medians()
    return f"  median {name}: {wall * 1000:.0f} ms ({cpu * 1000:.0f} ms processor, {faults:.0f} page faults)"


def _libraries() -> str:
    """What pyvips-binary's shared libraries weigh as installed: what they would add to the bundle."""
    try:
        files = importlib.metadata.files("pyvips-binary") or []
    except importlib.metadata.PackageNotFoundError:
        return "pyvips-binary is not installed (pyvips uses a libvips of the system's)"
    libraries = [Path(str(file.locate())) for file in files if ".so" in file.name or file.name.endswith((".dll", ".dylib"))]
    size = sum(library.stat().st_size for library in libraries if library.exists())
    return f"pyvips-binary's {len(libraries)} libraries: {size / 1e6:.1f} MB installed"


def _load() -> str:
    return " ".join(f"{figure:.1f}" for figure in os.getloadavg())


def main() -> int:
    """Run the benchmark and print its figures."""
    if pyvips is None:
        print(f"pyvips is not installed or cannot load libvips ({_MISSING}); nothing measured. "
              "To measure: pip install pyvips pyvips-binary")
        return 0
    pyvips.cache_set_max(0)
    policy = PhotoPolicy()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sources = [save_photo(root / f"src{i}.jpg", (4000, 3000), orientation=6 if i % 2 else 1, seed=i) for i in range(3)]
        datas = [source.read_bytes() for source in sources]
        print(f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)} (pyvips {pyvips.__version__}, "
              f"{pyvips.concurrency_get()} threads; {_libraries()}); 12 MP JPEG source, "
              f"{sum(map(len, datas)) / len(datas) / 1e6:.1f} MB average, {ROUNDS * len(sources)} runs each; "
              f"{os.cpu_count()} cores, load average {_load()}")
        decodes, pixels, writes, pillows = Run(), Run(), Run(), Run()
        _pillow_decode(datas[0])  # untimed first runs: each library's first picture
        _vips_prepared(sources[0], datas[0], policy)
        sizes = []
        for round_no in range(ROUNDS):
            for source, data in zip(sources, datas):
                decodes.time(partial(_pillow_decode, data))
                prepared = pixels.time(partial(_vips_prepared, source, data, policy))
                sizes.append(prepared.size)
                # fresh folders each time, so every import really writes its files
                writes.time(partial(write_prepared, prepared, root / f"photos{round_no}"))
                pillows.time(partial(_pillow_import, source, policy, root / f"pillow{round_no}"))
        print(_line(decodes, "Pillow full decode         "))
        print(_line(pixels, "libvips pixels (+EXIF read)"))
        print(_line(writes, "writing photo + thumbnail  "))
        print(_line(pillows, "today's Pillow import      "))
        (decode, decode_p, _), (pixel, pixel_p, _), (write, write_p, _) = (
            decodes.medians(), pixels.medians(), writes.medians())
        print(f"  stored photo {statistics.median(sizes) / 1e6:.2f} MB median; turned photo "
              f"{_difference(sources[1], _vips_prepared(sources[1], datas[1], policy), policy)}")
        ratio = pixel / decode
        print(f"  pixels / decode: {ratio:.2f} wall, {pixel_p / decode_p:.2f} processor; "
              f"with the writes (an import): {(pixel + write) / decode:.2f} wall "
              f"(goal <= 2.0) {'OK' if (pixel + write) / decode <= 2.0 else 'OVER'}, "
              f"{(pixel_p + write_p) / decode_p:.2f} processor; today's Pillow import: "
              f"{pillows.medians()[0] / decode:.2f} wall, {pillows.medians()[1] / decode_p:.2f} processor; "
              f"load average {_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
