"""Photos as users have them: every format Pillow reads, EXIF orientation, bombs, hidden files, links, names.

Each file is made with Pillow from a real photo of the course mirror, the way a
phone, a camera or a download folder would have saved it, and must come out the
same way through the folder check (``check_image``), the decode (``read_rgb``)
and the ``tf.data`` pipeline; the end-to-end test mixes them all in one folder.
"""

from __future__ import annotations

import os
import struct
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest

from tlcourse import data
from tlcourse_cli import capstone, cli

SIZE = 64


@pytest.fixture(scope="module")
def upright():
    """A real landscape photo (ants/bees), RGB, wider than tall."""
    from PIL import Image

    for path in sorted((data.dataset_path("hymenoptera") / "val" / "bees").glob("*.jpg")):
        with Image.open(path) as im:
            if im.width > im.height * 1.2 and not im.getexif().get(0x0112):
                return im.convert("RGB")
    raise AssertionError("no landscape photo in the mirror")


def _reference(im, size: int = SIZE) -> np.ndarray:
    from PIL import Image

    return np.asarray(im.convert("RGB").resize((size, size), Image.Resampling.BILINEAR), dtype=np.float32)


def _diff(a, b) -> float:
    return float(np.mean(np.abs(np.asarray(a, np.float32) - np.asarray(b, np.float32))))


def _grey16(im):
    from PIL import Image

    grey = np.asarray(im.convert("L"), dtype=np.uint16) * 257
    return Image.fromarray(grey)  # mode "I;16"


# name, how to save it, the Pillow format it is read as, how close to the photo it must come out (mean |diff|)
KINDS = {
    "webp": ("photo.webp", lambda im, p: im.save(p, quality=90), "WEBP", 8),
    "gif": ("photo.gif", lambda im, p: im.save(p), "GIF", 12),
    "animated gif": ("anim.gif", lambda im, p: im.save(p, save_all=True, append_images=[im.rotate(180)]), "GIF", 12),
    "tiff": ("photo.tif", lambda im, p: im.save(p), "TIFF", 1),
    "multi-page tiff": ("pages.tiff", lambda im, p: im.save(p, save_all=True, append_images=[im.rotate(180)]),
                        "TIFF", 1),
    "png rgba": ("alpha.png", lambda im, p: im.convert("RGBA").save(p), "PNG", 1),
    "png 16-bit grey": ("grey16.png", lambda im, p: _grey16(im).save(p), "PNG", 1),
    "cmyk jpeg": ("cmyk.jpg", lambda im, p: im.convert("CMYK").save(p, quality=95), "JPEG", 4),
    "grey jpeg": ("grey.jpg", lambda im, p: im.convert("L").save(p, quality=95), "JPEG", 2),
    "bmp": ("photo.bmp", lambda im, p: im.save(p), "BMP", 1),
    "mpo": ("camera.mpo", lambda im, p: im.save(p, save_all=True, append_images=[im.rotate(180)], quality=95),
            "MPO", 3),
    "avif": ("photo.avif", lambda im, p: im.save(p, quality=90), "AVIF", 8),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_of_photo_is_checked_read_and_upright(tmp_path, upright, kind):
    from PIL import Image, features

    name, save, fmt, tolerance = KINDS[kind]
    if fmt == "AVIF" and not features.check("avif"):
        pytest.skip("this Pillow has no AVIF codec")
    path = tmp_path / name
    save(upright, path)
    with Image.open(path) as im:
        assert im.format == fmt
    reason, size = data.check_image(path)
    assert reason is None and size == upright.size
    x = data.read_rgb(path, SIZE)
    assert x.shape == (SIZE, SIZE, 3) and x.dtype == np.uint8
    expected = _reference(upright.convert("L") if "grey" in kind else upright)
    if "grey" in kind:
        assert np.array_equal(x[..., 0], x[..., 1]) and np.array_equal(x[..., 1], x[..., 2])
    assert _diff(x, expected) < tolerance, kind  # the first frame, in its own colours, not clipped or inverted


def test_alpha_is_composited_on_white(tmp_path, upright):
    rgba = upright.convert("RGBA")
    alpha = np.full(rgba.size[::-1], 255, np.uint8)
    alpha[:, : rgba.width // 2] = 0  # left half transparent
    rgba.putalpha(__import__("PIL.Image", fromlist=["Image"]).fromarray(alpha))
    for name in ("cutout.png", "cutout.webp"):
        rgba.save(tmp_path / name, **({"lossless": True} if name.endswith("webp") else {}))
        x = data.read_rgb(tmp_path / name, SIZE)
        assert (x[:, : SIZE // 2 - 2] == 255).all(), name  # white, not black
        assert _diff(x[:, SIZE // 2 + 2:], _reference(upright)[:, SIZE // 2 + 2:]) < 2


def test_palette_gif_with_a_transparent_colour_is_on_white(tmp_path, upright):
    from PIL import Image

    p = upright.quantize(64)
    p.putpixel((0, 0), 7)
    px = np.array(p)
    px[: px.shape[0] // 2] = 7  # top half: the transparent index
    Image.fromarray(px, "P").save(tmp_path / "t.gif", palette=p.getpalette(), transparency=7)
    x = data.read_rgb(tmp_path / "t.gif", SIZE)
    assert (x[: SIZE // 2 - 2] == 255).all()


@pytest.mark.parametrize("orientation, stored", [(6, "ROTATE_90"), (8, "ROTATE_270"), (3, "ROTATE_180"),
                                                 (2, "FLIP_LEFT_RIGHT")])
def test_exif_orientation_is_applied(tmp_path, upright, orientation, stored):
    """A phone stores the sensor's pixels and an Orientation tag: the decoded photo must be upright."""
    from PIL import Image

    raw = upright.transpose(getattr(Image.Transpose, stored))  # what the sensor recorded
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"phone_{orientation}.jpg"
    raw.save(path, quality=95, exif=exif)
    if orientation in (6, 8):
        assert raw.size == upright.size[::-1]  # stored on its side
    reason, size = data.check_image(path)
    assert reason is None and size == upright.size  # (width, height) as the photo is seen
    x = data.read_rgb(path, SIZE)
    assert _diff(x, _reference(upright)) < 3  # upright ...
    assert _diff(x, _reference(raw)) > 4 * _diff(x, _reference(upright))  # ... and not as stored
    tensor = data.decode_image(str(path), SIZE).numpy()  # the pipeline reads it the same way
    assert np.array_equal(tensor, x.astype(np.float32))


def test_a_portrait_photo_from_a_phone_keeps_its_shape_in_the_audit(tmp_path, upright):
    from PIL import Image

    portrait = upright.transpose(Image.Transpose.ROTATE_90)  # taller than wide, as seen
    exif = Image.Exif()
    exif[0x0112] = 6
    portrait.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "p.jpg", exif=exif)  # stored landscape
    _, size = data.check_image(tmp_path / "p.jpg")
    assert size == portrait.size and size[1] > size[0]


# --------------------------------------------------------------------------- files that are refused


def test_heic_is_skipped_with_the_fix(tmp_path, upright):
    heic = tmp_path / "IMG_0001.HEIC"
    heic.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200)
    reason, _ = data.check_image(heic)
    assert "HEIC" in reason and "pillow-heif" in reason and "convert" in reason
    misnamed = tmp_path / "IMG_0002.jpg"  # a HEIC photo renamed by hand
    misnamed.write_bytes(heic.read_bytes())
    assert "pillow-heif" in data.check_image(misnamed)[0]
    jpeg_named_heic = tmp_path / "IMG_0003.heic"  # an export that kept the name: really a JPEG
    upright.save(jpeg_named_heic, format="JPEG")
    assert data.check_image(jpeg_named_heic) == (None, upright.size)
    with pytest.raises(data.ImageReadError, match="pillow-heif"):
        data.read_rgb(heic, SIZE)


def _png_header(width: int, height: int) -> bytes:
    """A valid PNG of a few bytes that declares ``width`` x ``height`` pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("width, height, message", [
    (50000, 50000, "decompression bomb"),  # over Pillow's own error limit
    (10000, 10000, "decompression bomb"),  # Pillow warns: the warning becomes the refusal
    (9000, 8000, "72 megapixels, over the limit of 64"),  # under Pillow's limits, over the course's
])
def test_a_decompression_bomb_is_refused_at_once(tmp_path, width, height, message):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header(width, height))
    assert path.stat().st_size < 200
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DecompressionBombWarning leaks out
        reason, size = data.check_image(path)
        with pytest.raises(data.ImageReadError, match="too large"):
            data.read_rgb(path, SIZE)
    assert time.perf_counter() - t0 < 2
    assert size is None and reason.startswith("too large") and message in reason


def test_placeholders_and_blank_frames_are_not_photos_but_white_backgrounds_are(tmp_path, upright):
    from PIL import Image, ImageDraw

    sorry = Image.new("RGB", (300, 300), (247, 247, 247))
    ImageDraw.Draw(sorry).text((80, 140), "IMAGE NOT FOUND", fill=(60, 60, 60))
    sorry.save(tmp_path / "sorry.gif")
    assert "placeholder" in data.check_image(tmp_path / "sorry.gif")[0]
    assert data.check_image(tmp_path / "sorry.gif", photos_only=False)[0] is None
    # an insect photographed on white: mostly one colour, but hundreds of colours in the subject
    on_white = Image.new("RGB", (400, 400), (255, 255, 255))
    on_white.paste(upright.resize((150, 100)), (120, 150))
    on_white.save(tmp_path / "on_white.png")
    assert data.check_image(tmp_path / "on_white.png")[0] is None


def test_empty_and_truncated_files_have_reasons(tmp_path, upright):
    (tmp_path / "empty.jpg").write_bytes(b"")
    assert data.check_image(tmp_path / "empty.jpg")[0] == "empty file (0 bytes)"
    upright.save(tmp_path / "full.webp")
    blob = (tmp_path / "full.webp").read_bytes()
    (tmp_path / "cut.webp").write_bytes(blob[: len(blob) // 2])
    assert data.check_image(tmp_path / "cut.webp")[0] is not None


# --------------------------------------------------------------------------- what a folder holds


def _photo(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(src.read_bytes())
    return dst


@pytest.fixture
def rose_photos(flowers_dir: Path) -> list[Path]:
    return sorted((flowers_dir / "rose").glob("*.jpg"))[:6]


def test_hidden_and_system_files_are_ignored_and_counted(tmp_path, rose_photos):
    cls = tmp_path / "rose"
    _photo(rose_photos[0], cls / "a.jpg")
    for junk in (".DS_Store", "Thumbs.db", "desktop.ini", "._a.jpg"):
        (cls / junk).write_bytes(b"\x00\x01junk")
    _photo(rose_photos[1], cls / ".ipynb_checkpoints" / "a-checkpoint.jpg")
    _photo(rose_photos[2], cls / "__MACOSX" / "a.jpg")
    scan = data.scan_class_folder(cls)
    assert [Path(f).name for f in scan.files] == ["a.jpg"] and scan.skipped == []
    assert sorted(Path(p).name for p in scan.ignored) == sorted(
        [".DS_Store", "Thumbs.db", "desktop.ini", "._a.jpg", ".ipynb_checkpoints", "__MACOSX"])


def test_nested_folders_symlink_loops_and_broken_links(tmp_path, rose_photos):
    cls = tmp_path / "rose"
    _photo(rose_photos[0], cls / "a.jpg")
    _photo(rose_photos[1], cls / "2023" / "summer" / "b.jpg")
    (cls / "2023" / "summer" / "back_to_top").symlink_to(cls, target_is_directory=True)
    (cls / "itself").symlink_to(cls / "itself")
    (cls / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    elsewhere = _photo(rose_photos[2], tmp_path / "elsewhere" / "c.jpg").parent
    (cls / "linked").symlink_to(elsewhere, target_is_directory=True)  # a linked folder is followed, once
    t0 = time.perf_counter()
    scan = data.scan_class_folder(cls)
    assert time.perf_counter() - t0 < 5
    assert sorted(Path(f).name for f in scan.files) == ["a.jpg", "b.jpg", "c.jpg"]
    reasons = {Path(p).name: r for p, r in scan.skipped}
    assert reasons["back_to_top"].startswith("symlink loop") and str(cls) in reasons["back_to_top"]
    assert reasons["itself"].startswith("symlink loop")
    assert reasons["gone.jpg"].startswith("broken symlink")


def test_unicode_names_with_spaces_work_end_to_end_through_tf_data(tmp_path, rose_photos):
    root = tmp_path / "mes photos"
    names = ["Été à Zürich 1.jpg", "日本の バラ.jpg", "ροδο  δύο.jpg", "emoji 🌹.jpg"]
    for i, name in enumerate(names):
        _photo(rose_photos[i], root / "rosé rouge" / name)
        _photo(rose_photos[i + 1], root / "tulipe jaune" / f"x {name}")
    folder = data.scan_images(root)
    assert folder.class_names == ["rosé rouge", "tulipe jaune"] and len(folder) == 8
    assert not folder.skipped
    x, y = next(iter(data.make_dataset(folder.files, folder.labels, image_size=32, batch_size=8)))
    assert x.shape == (8, 32, 32, 3) and sorted(y.numpy().tolist()) == [0] * 4 + [1] * 4
    assert np.array_equal(data.load_images(folder.files[:1], image_size=32)[0], data.read_rgb(folder.files[0], 32))


# --------------------------------------------------------------------------- all of it in one folder


def _messy_class(src: list[Path], cls: Path, tmp: Path) -> int:
    """A class folder as a phone, a camera and a download folder fill one; returns how many real photos."""
    from PIL import Image

    photos = [Image.open(p).convert("RGB") for p in src]
    saves = [
        ("plain.jpg", lambda im, p: im.save(p)),
        ("download.webp", lambda im, p: im.save(p)),
        ("meme.gif", lambda im, p: im.save(p)),
        ("scan.tif", lambda im, p: im.save(p)),
        ("cutout.png", lambda im, p: im.convert("RGBA").save(p)),
        ("scanner16.png", lambda im, p: _grey16(im).save(p)),
        ("print.jpg", lambda im, p: im.convert("CMYK").save(p)),
        ("grey.jpg", lambda im, p: im.convert("L").save(p)),
        ("paint.bmp", lambda im, p: im.save(p)),
        ("camera.mpo", lambda im, p: im.save(p, save_all=True, append_images=[im])),
        ("phone.jpg", lambda im, p: im.transpose(Image.Transpose.ROTATE_90).save(p, exif=_exif(6))),
        ("Vacances d'été 2024 (1).jpg", lambda im, p: im.save(p)),
        ("2023/summer/nested.jpg", lambda im, p: im.save(p)),
    ]
    for (name, save), im in zip(saves, photos):
        (cls / name).parent.mkdir(parents=True, exist_ok=True)
        save(im, cls / name)
    (cls / "IMG_4242.HEIC").write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 100)
    (cls / "huge.png").write_bytes(_png_header(50000, 50000))
    (cls / "notes.txt").write_text("to sort")
    for junk in (".DS_Store", "Thumbs.db", "desktop.ini"):
        (cls / junk).write_bytes(b"\x00junk")
    _photo(src[0], cls / ".ipynb_checkpoints" / "plain-checkpoint.jpg")
    _photo(src[1], cls / "__MACOSX" / "._plain.jpg")
    (cls / "2023" / "loop").symlink_to(cls, target_is_directory=True)
    return len(saves)


def _exif(orientation: int):
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif


@pytest.fixture
def messy_folder(tmp_path: Path, flowers_dir: Path) -> tuple[Path, int]:
    root = tmp_path / "my photos"
    n = 0
    for cls in ("daisy", "rose", "tulip"):
        n += _messy_class(sorted((flowers_dir / cls).glob("*.jpg"))[:13], root / cls, tmp_path)
    (root / ".DS_Store").write_bytes(b"\x00")
    return root, n


def test_audit_of_a_messy_folder_reads_every_real_photo(messy_folder):
    root, n = messy_folder
    assert n == 39
    audit = capstone.audit_folder(root)
    assert audit.class_names == ["daisy", "rose", "tulip"]
    assert audit.counts() == {"all": {"daisy": 13, "rose": 13, "tulip": 13}}
    assert len(audit.sizes) == 39 and not audit.duplicates
    reasons = sorted(r.split(" (")[0].split(":")[0] for _, r in audit.skipped)
    assert reasons == sorted(["HEIC/HEIF photo", "too large", "not an image file", "symlink loop"] * 3)
    assert len(audit.ignored) == 3 * 5 + 1  # 3 system files + 2 hidden folders per class, and the root's
    summary = audit.summary()
    assert "hidden or system files and folders ignored: 16" in summary
    assert "3 symlink loop" in summary and "3 HEIC/HEIF photo" in summary
    # what the audit read, the pipeline reads: one batch of every accepted file
    files = [f for folder in audit.splits.values() for f in folder.files]
    assert data.load_images(files, image_size=32).shape == (39, 32, 32, 3)


@pytest.mark.slow
def test_train_command_on_a_messy_folder(messy_folder, tmp_path, capsys):
    root, _ = messy_folder
    out = tmp_path / "run"
    code = cli.main(["train", str(root), "--out", str(out), "--profile", "quick", "--image-size", "64",
                     "--fine-tune-epochs", "1", "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert (out / "model.keras").is_file()
    assert os.path.getsize(out / "report.json") > 0


def test_a_file_the_scan_would_refuse_fails_in_the_pipeline_with_its_name_and_reason(tmp_path):
    import tensorflow as tf

    (tmp_path / "note.jpg").write_text("not a photo")
    with pytest.raises(tf.errors.InvalidArgumentError, match="note.jpg: not an image"):
        data.load_images([str(tmp_path / "note.jpg")], image_size=16)
