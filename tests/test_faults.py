"""`tlcourse train` and `predict` under faults: no photo under a wrong label, nothing lost, no traceback.

Each test builds its folders here (flower photos from the course data, or small images made
with Pillow) and checks what the user sees and what is on disk afterwards (issue 21).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tlcourse import models, settings
from tlcourse_cli import capstone

# --------------------------------------------------------------------------- labels


def _used(audit: capstone.Audit) -> dict[str, str]:
    """``{file: class}`` of every photo the audit keeps for training or evaluation."""
    return {f: audit.class_names[y] for folder in audit.splits.values() for f, y in zip(folder.files, folder.labels)}


def test_a_link_to_the_parent_pulls_no_other_class_in(small_folder, capsys):
    (small_folder / "daisy" / "loop").symlink_to("..", target_is_directory=True)
    audit = capstone.audit_folder(small_folder)
    assert audit.counts() == {"all": {"daisy": 4, "rose": 4, "tulip": 4}} and not audit.duplicates
    assert all(Path(f).parent.name == cls for f, cls in _used(audit).items())
    reasons = dict(audit.skipped)
    assert "a link out of its class folder" in reasons[str(small_folder / "daisy" / "loop")]
    assert "loop" in audit.summary() and "not followed" in audit.summary()


def test_a_link_to_a_sub_folder_of_another_class_keeps_those_photos_in_their_class(small_folder):
    (small_folder / "rose" / "2023").mkdir()
    for f in sorted((small_folder / "rose").glob("*.jpg"))[:2]:
        f.rename(small_folder / "rose" / "2023" / f.name)
    (small_folder / "daisy" / "shared").symlink_to(small_folder / "rose" / "2023", target_is_directory=True)
    (small_folder / "tulip" / "roses").symlink_to(small_folder / "rose", target_is_directory=True)
    used = _used(capstone.audit_folder(small_folder))
    assert sorted(used.values()) == ["daisy"] * 4 + ["rose"] * 4 + ["tulip"] * 4
    assert all(cls == ("rose" if "/rose/" in f else Path(f).parent.name) for f, cls in used.items())


def test_a_class_folder_that_is_a_link_to_another_is_refused(small_folder):
    (small_folder / "roses").symlink_to(small_folder / "rose", target_is_directory=True)
    with pytest.raises(capstone.FolderError, match=r"rose/ and roses/ .* hold the same photos"):
        capstone.audit_folder(small_folder)


def test_a_folder_named_with_an_underscore_is_a_class_and_a_hidden_one_is_named(small_folder, flowers_dir):
    (small_folder / "_other").mkdir()
    for f in sorted((flowers_dir / "sunflower").glob("*.jpg"))[:4]:
        shutil.copy(f, small_folder / "_other" / f.name)
    shutil.copytree(small_folder / "rose", small_folder / ".trash")
    audit = capstone.audit_folder(small_folder)
    assert audit.class_names == ["_other", "daisy", "rose", "tulip"]
    assert audit.counts()["all"] == {"_other": 4, "daisy": 4, "rose": 4, "tulip": 4}
    assert f"left out {small_folder / '.trash'}/" in audit.summary()


def test_a_link_to_a_folder_outside_the_photos_is_followed_once(small_folder, tmp_path):
    outside = tmp_path / "elsewhere"
    shutil.copytree(small_folder / "daisy", outside)
    for f in list((small_folder / "daisy").glob("*.jpg"))[:3]:
        f.unlink()
    (small_folder / "daisy" / "more").symlink_to(outside, target_is_directory=True)
    audit = capstone.audit_folder(small_folder)
    assert audit.counts()["all"]["daisy"] == 4  # one real copy, three more through the link (one a duplicate)


def test_a_class_folder_whose_name_is_not_utf8_is_refused_by_name(small_folder):
    os.rename(small_folder / "tulip", os.fsencode(small_folder) + b"/tulip\xe9")
    with pytest.raises(capstone.FolderError, match=r"tulip\\xe9 has a name that is not valid UTF-8"):
        capstone.audit_folder(small_folder)


# --------------------------------------------------------------------------- the audit, on random folder trees


def _write_photo(path: Path, seed: int) -> str:
    """A small noisy PNG (a "photo": hundreds of colours), and the SHA-256 of its bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (20, 20, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, format="PNG")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _random_tree(root: Path, outside: Path, seed: int) -> dict[str, set[str]]:
    """A class folder tree with links, copies and odd names; returns ``{photo sha256: classes it is placed in}``."""
    r = random.Random(seed)
    classes = r.sample(["daisy", "rose", "tulip", "_other", "été", "two words"], r.randint(2, 3))
    homes: dict[str, set[str]] = {}
    photos: dict[str, list[Path]] = {c: [] for c in classes}
    n = seed * 1000
    for c in classes:
        for i in range(r.randint(4, 6)):
            sub = r.choice(["", "", "2023", "2023/summer", "_misc", "a b"])
            name = r.choice([f"p{i}.png", f"P {i}.PNG", f"ü{i}.png", f"_p{i}.png", f"p{i}.jpg.png"])
            path = root / c / sub / name
            homes.setdefault(_write_photo(path, n), set()).add(c)
            photos[c].append(path)
            n += 1
    for c in classes:
        other = r.choice([o for o in classes if o != c])
        home = root / c
        for hazard in r.sample(range(11), r.randint(2, 6)):
            if hazard == 0:  # a link to the class folder's parent, or to the top
                (home / "up").symlink_to("..", target_is_directory=True)
            elif hazard == 1:  # a link to a sibling class
                (home / "sibling").symlink_to(root / other, target_is_directory=True)
            elif hazard == 2 and (root / other / "2023").is_dir():  # a sub-folder of another class
                (home / "borrowed").symlink_to(root / other / "2023", target_is_directory=True)
            elif hazard == 3:  # a copy of another class's photo: the same photo under two labels
                src = r.choice(photos[other][:1])
                shutil.copy(src, home / f"copy of {src.name}")
                homes[hashlib.sha256(src.read_bytes()).hexdigest()].add(c)
            elif hazard == 4:  # a file link to another class's photo
                src = photos[other][0]
                (home / "linked.png").symlink_to(src)
                homes[hashlib.sha256(src.read_bytes()).hexdigest()].add(c)
            elif hazard == 5:  # a copy inside its own class
                shutil.copy(photos[c][-1], home / "again.png")
            elif hazard == 6:  # a folder outside the photos, linked in: its photos are this class's
                ext = outside / f"{seed}-{c}"
                homes.setdefault(_write_photo(ext / "x.png", n), set()).add(c)
                n += 1
                (home / "external").symlink_to(ext, target_is_directory=True)
            elif hazard == 7:  # a name that is not UTF-8 (a photo copied from an old camera card)
                with open(os.fsencode(home) + b"/caf\xe9.png", "wb") as f:
                    f.write(photos[c][0].read_bytes())
            elif hazard == 8:  # hidden and system entries
                _write_photo(home / ".thumbnails" / "t.png", n + 500)
                (home / "Thumbs.db").write_bytes(b"\0")
            elif hazard == 9:  # not photos
                (home / "note.jpg").write_text("not a photo")
                (home / "broken.png").symlink_to(root / "nowhere.png")
            elif hazard == 10:  # a loop deeper down
                (home / "2023").mkdir(exist_ok=True)
                (home / "2023" / "back").symlink_to(home, target_is_directory=True)
    return homes


def _sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.mark.parametrize("seed", range(12))
def test_no_photo_gets_another_folders_label_and_every_file_is_accounted_for(tmp_path, seed):
    root = tmp_path / "photos"
    homes = _random_tree(root, tmp_path / "outside", seed)
    audit = capstone.audit_folder(root)
    used = _used(audit)
    for f, cls in used.items():  # the label is the one folder the photo is in, always
        assert homes[_sha(f)] == {cls}, (f, cls, homes[_sha(f)])
    kept = {_sha(f) for f in used}
    assert {h for h, cs in homes.items() if len(cs) == 1} <= kept  # every photo with one class is used
    listed = set(used) | {f for g in audit.duplicates for f in g} | {p for p, _ in audit.skipped}
    ignored = set(audit.ignored)
    for d, dirs, files in os.walk(root):
        if any(d == i or d.startswith(i + "/") for i in ignored):
            continue
        for name in files + [x for x in dirs if os.path.islink(os.path.join(d, x))]:
            p = os.fsencode(os.path.join(d, name)).decode("utf-8", "backslashreplace")
            followed = any(u.startswith(p + "/") for u in listed)
            assert p in listed or p in ignored or followed, f"{p} is neither used nor listed with a reason"
    assert audit.summary()  # printable, whatever the names


# --------------------------------------------------------------------------- saved models


def _tiny_classifier(n_classes: int, size: int = 8):
    """A model shaped like the capstone's (raw pixels in, one probability per class out), made in a moment."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((size, size, 3), name="image")
    x = keras.layers.Rescaling(1 / 255, name="preprocess")(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inputs, keras.layers.Dense(n_classes, activation="softmax", name="classifier")(x))


def _photo(tmp_path: Path, name: str = "photo.png") -> Path:
    _write_photo(tmp_path / name, 7)
    return tmp_path / name


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    """A model folder as `tlcourse train` leaves it: two classes."""
    return capstone.save(_tiny_classifier(2), ["cat", "dog"], tmp_path / "models" / "pets", {"run": 1})


@pytest.mark.parametrize("when", ["model", "classes", "report"])
def test_a_save_interrupted_or_out_of_disk_leaves_the_old_model_whole(saved, monkeypatch, when):
    import keras

    before = _snapshot(saved)
    new = _tiny_classifier(3)
    if when == "model":  # Ctrl-C in the middle of writing model.keras
        def interrupted(self, path, *a, **k):
            Path(path).write_bytes(b"PK\x03\x04 half a zip")
            raise KeyboardInterrupt
        monkeypatch.setattr(keras.Model, "save", interrupted)
    else:  # a full disk while writing classes.json or report.json
        real = Path.write_text
        name = capstone.CLASSES_FILE if when == "classes" else capstone.REPORT_FILE

        def full(self, *a, **k):
            if self.name == name:
                raise OSError(28, "No space left on device")
            return real(self, *a, **k)
        monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises((KeyboardInterrupt, OSError)):
        capstone.save(new, ["a", "b", "c"], saved, {"run": 2})
    monkeypatch.undo()
    assert _snapshot(saved) == before  # the old model, classes and report, byte for byte
    assert sorted(p.name for p in saved.parent.iterdir()) == ["pets"]  # no temporary folder left behind
    model, classes = capstone.load(saved)
    assert classes == ["cat", "dog"] and model.output_shape == (None, 2)


def test_a_new_save_replaces_the_whole_folder(saved):
    (saved / ".DS_Store").write_bytes(b"\0")  # left by a file browser: no reason to refuse the folder
    capstone.save(_tiny_classifier(3), ["a", "b", "c"], saved)
    assert sorted(p.name for p in saved.iterdir()) == ["classes.json", "model.keras"]  # the old report is gone
    assert capstone.load(saved)[1] == ["a", "b", "c"]
    assert sorted(p.name for p in saved.parent.iterdir()) == ["pets"]


@pytest.mark.parametrize("classes, message", [
    ('["cat", "dog", "bird"]', "gives outputs .* 3 names"),
    ('["cat"]', "gives outputs .* 1 names"),
    ('{"0": "cat", "1": "dog"}', "must be a list of distinct class names"),
    ('["cat", "cat"]', "must be a list of distinct class names"),
    ("cat, dog", "is not readable JSON"),
])
def test_predict_refuses_class_names_that_do_not_fit_the_model(saved, tmp_path, capsys, classes, message):
    (saved / "classes.json").write_text(classes)
    assert cli_main(["predict", str(saved), str(_photo(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    import re
    assert re.search(message, err), err


def cli_main(argv: list[str]) -> int:
    from tlcourse_cli import cli

    return cli.main(argv)


def _foreign_model(folder: Path, kind: str) -> Path:
    import keras

    folder.mkdir(parents=True)
    (folder / "classes.json").write_text('["a", "b"]')
    if kind == "damaged":
        capstone.save(_tiny_classifier(2), ["a", "b"], folder)
        data = (folder / "model.keras").read_bytes()
        (folder / "model.keras").write_bytes(data[: len(data) // 2])
        return folder
    if kind == "lambda":
        inputs = keras.Input((8, 8, 3))
        outputs = keras.layers.Dense(2)(keras.layers.Flatten()(keras.layers.Lambda(lambda t: t / 255)(inputs)))
    elif kind == "free size":
        inputs = keras.Input((None, None, 3))
        outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(inputs))
    else:  # not an image model
        inputs = keras.Input((4,))
        outputs = keras.layers.Dense(2, activation="softmax")(inputs)
    keras.Model(inputs, outputs).save(folder / "model.keras")
    return folder


@pytest.mark.parametrize("kind, message", [
    ("lambda", "holds a Lambda layer"),
    ("free size", r"not square RGB images of one fixed size"),
    ("not an image", r"not square RGB images"),
    ("damaged", "is damaged"),
])
def test_predict_on_a_model_from_elsewhere_says_what_is_wrong(tmp_path, capsys, kind, message):
    folder = _foreign_model(tmp_path / "model", kind)
    assert cli_main(["predict", str(folder), str(_photo(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err and "safe_mode=False" not in err


def test_predict_reads_a_photo_whose_name_is_not_utf8(saved, tmp_path, capsys):
    path = os.fsencode(tmp_path) + b"/caf\xe9.png"
    with open(path, "wb") as f:
        f.write(_photo(tmp_path).read_bytes())
    assert cli_main(["predict", str(saved), os.fsdecode(path)]) == 0
    out = capsys.readouterr().out
    assert "caf\\xe9.png: " in out and out.split(": ")[1].split(" (")[0] in {"cat", "dog"}


# --------------------------------------------------------------------------- where the model goes, and the settings


@pytest.mark.parametrize("make, message", [
    (lambda d: (d / "taken").write_text("a file") and d / "taken", "is a file, not a folder"),
    (lambda d: (d / "mine").mkdir() or (d / "mine" / "thesis.docx").write_text("x") and d / "mine",
     r"already holds other files \(thesis.docx\)"),
    (lambda d: (d / "f").write_text("x") and d / "f" / "model", "is a file, so no folder can be made there"),
])
def test_a_wrong_out_is_refused_before_any_training(small_folder, tmp_path, capsys, make, message):
    out = make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert cli_main(["train", str(small_folder), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: --out") and "[1/6]" not in captured.out
    import re
    assert re.search(message, captured.err)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_an_out_folder_that_cannot_be_written_is_refused_before_training(small_folder, tmp_path, capsys,
                                                                        monkeypatch):
    import tempfile

    def refuse(*a, **k):  # what a read-only folder does (the tests run as root, which no chmod stops)
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    assert cli_main(["train", str(small_folder), "--out", str(tmp_path / "ro" / "model")]) == 2
    captured = capsys.readouterr()
    assert f"{tmp_path} refuses new files (Permission denied)" in captured.err and "[1/6]" not in captured.out


def test_out_with_a_tilde_is_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert capstone.check_out_dir("~/models/flowers") == tmp_path / "models" / "flowers"
    assert not (tmp_path / "models").exists() and not Path("~").exists()


@pytest.mark.parametrize("args, message", [
    (["--max-per-class", "0"], "--max-per-class: 0 is out of range"),
    (["--max-per-class", "-1"], "--max-per-class: -1 is out of range"),
    (["--fine-tune-epochs", "-1"], "--fine-tune-epochs: -1 is out of range"),
    (["--image-size", "0"], "--image-size: 0 is out of range: give from 32 to 1024"),
    (["--image-size", "7"], "--image-size: 7 is out of range"),
    (["--seed", "-1"], "--seed: -1 is out of range"),
    (["--budget", "nan"], "--budget: nan is out of range"),
    (["--budget", "many"], "--budget: 'many' is not a number"),
])
def test_command_line_values_are_checked_before_any_work(small_folder, tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as stop:
        cli_main(["train", str(small_folder), "--out", str(tmp_path / "m"), *args])
    captured = capsys.readouterr()
    assert stop.value.code == 2 and message in captured.err and "[1/6]" not in captured.out
    assert not (tmp_path / "m").exists()


def test_train_itself_refuses_settings_out_of_range(small_folder, tmp_path):
    with pytest.raises(ValueError, match="budget must be .* image_size must be .* max_per_class must be"):
        capstone.train(small_folder, tmp_path / "m", budget=float("nan"), image_size=7, max_per_class=0)


# --------------------------------------------------------------------------- caches and files that change


@pytest.fixture
def feature_model():
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])


def _corrupt_cache(path: Path, how: str) -> None:
    if how == "changed values":
        np.save(path, np.load(path) + 1)
    elif how == "wrong shape":
        np.save(path, np.zeros((3, 7), np.float32))
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    else:  # the checksum beside it is gone
        Path(f"{path}.sha256").unlink()


@pytest.mark.parametrize("how", ["changed values", "wrong shape", "truncated", "no checksum"])
def test_a_damaged_features_cache_is_recomputed_and_rewritten(feature_model, tmp_path, capsys, how):
    from tlcourse import features

    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    first = features.cached_features(feature_model, x, name="t", cache_dir=tmp_path, verbose=False)
    (path,) = tmp_path.glob("t-*.npy")
    _corrupt_cache(path, how)
    features.clear_memory_cache()
    again = features.cached_features(feature_model, x, name="t", cache_dir=tmp_path, verbose=False)
    assert again.shape == (5, 3) and np.allclose(again, first)
    assert "computing it again" in capsys.readouterr().out
    assert np.allclose(np.load(path), first)  # the file on disk is whole again
    features.clear_memory_cache()
    capsys.readouterr()
    features.cached_features(feature_model, x, name="t", cache_dir=tmp_path, verbose=False)
    assert "computing it again" not in capsys.readouterr().out  # and trusted from then on


def test_the_memory_cache_gives_a_copy(feature_model):
    from tlcourse import features

    x = np.ones((2, 4), "float32")
    first = features.cached_features(feature_model, x, name="m", cache_dir=None, verbose=False)
    expected = first.copy()
    first[:] = 0  # a learner editing the result in place
    assert np.array_equal(features.cached_features(feature_model, x, name="m", cache_dir=None), expected)
    features.clear_memory_cache()


def test_photos_deleted_or_truncated_after_the_audit_are_skipped_and_named(small_folder, capsys):
    import keras

    audit = capstone.audit_folder(small_folder)
    splits = capstone.make_splits(audit, seed=0)
    first = {int(y): f for f, y in reversed(list(zip(splits.train.files, splits.train.labels)))}
    gone, cut = first[0], first[1]  # one photo of each of two classes: each class keeps one
    Path(gone).unlink()
    Path(cut).write_bytes(Path(cut).read_bytes()[:300])
    bottom = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.AveragePooling2D(4)])
    cache = capstone.cache_splits(bottom, splits, image_size=16, batch_size=4)
    reasons = dict(cache.skipped)
    assert set(reasons) == {gone, cut} and all(r.startswith("changed since the audit") for r in reasons.values())
    train = cache["train"]
    assert len(train) == len(splits.train) - 2 and gone not in train.files and cut not in train.files
    assert len(cache["train_flipped"]) == len(train) == len(train.activations) == len(train.thumbnails)
    by_file = dict(zip(splits.train.files, splits.train.labels))
    assert [by_file[f] for f in train.files] == train.labels.tolist()  # labels still aligned with the files
    for f in splits.train.files:  # a class with no readable photo left: a clear error, not a traceback
        if by_file[f] == 0:
            Path(f).unlink(missing_ok=True)
    with pytest.raises(capstone.FolderError, match=r"train has no readable photo of class\(es\) \['daisy'\]"):
        capstone.cache_splits(bottom, splits, image_size=16, batch_size=4)


def test_a_name_that_is_not_utf8_is_skipped_with_its_reason(small_folder):
    src = sorted((small_folder / "rose").glob("*.jpg"))[0]
    with open(os.fsencode(small_folder / "rose") + b"/caf\xe9.jpg", "wb") as f:
        f.write(src.read_bytes()[::-1][::-1])
    audit = capstone.audit_folder(small_folder)
    reasons = dict(audit.skipped)
    assert "not valid UTF-8" in reasons[f"{small_folder}/rose/caf\\xe9.jpg"]
    assert "caf\\xe9.jpg" in audit.summary()


# --------------------------------------------------------------------------- weights, mirror, doctor


_WEIGHTS_DIR = settings.current().weights_dir  # the Keras cache the environment gives, read before a test moves it


def _good_weights(missing) -> Path:
    """The MobileNetV2 (alpha 0.35) weights of the Keras cache: a sound copy to damage."""
    from tlcourse_assets import weights

    found = _WEIGHTS_DIR / weights.weights_file("mobilenet_v2", alpha=0.35)
    if not found.is_file():
        missing(f"needs {found}")
    return found


def _scramble(path: Path) -> None:
    import h5py

    rng = np.random.default_rng(0)
    with h5py.File(path, "r+") as f:
        def overwrite(name, obj):
            if isinstance(obj, h5py.Dataset):
                obj[...] = rng.integers(0, 2**32, obj.shape, dtype=np.uint32).view(np.float32)
        f.visititems(overwrite)


@pytest.mark.parametrize("how", ["truncated", "scrambled"])
def test_damaged_weights_are_named_by_doctor_and_refused_by_train(keras_home, missing, capsys, how):
    from tlcourse_assets import weights
    from tlcourse_assets.errors import WeightsNotAvailableError
    from tlcourse_cli import doctor

    good = _good_weights(missing)
    dst = keras_home / "models" / good.name
    shutil.copy(good, dst)
    if how == "truncated":
        dst.write_bytes(dst.read_bytes()[: dst.stat().st_size // 2])
    else:
        _scramble(dst)
    problem = weights.check_weights_file(dst, "mobilenet_v2")
    assert problem and ("truncated" in problem or "beyond any trained weight" in problem or "NaN" in problem)
    line = next(a for a in doctor.course_assets("quick") if a.name == "mobilenet_v2 alpha 0.35")
    assert not line.available and "is damaged" in line.where and "--mirror" in line.advice
    with pytest.raises(WeightsNotAvailableError, match=f"(?s){good.name} are damaged.*tlcourse fetch --mirror"):
        capstone.build_model(2, image_size=96)
    with pytest.raises(WeightsNotAvailableError, match=f"{good.name} are damaged"):  # what every lesson calls
        models.load_base("mobilenet_v2", alpha=0.35, input_size=96)


def test_a_published_hash_is_checked_where_the_file_is_found(tmp_path):
    from tlcourse_assets import weights

    fake = tmp_path / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    fake.write_bytes(b"\0" * 1000)
    assert "Keras publishes 4d473c1dd8becc155b73f8504c6f6626" in weights.check_weights_file(fake, "resnet50")


def test_fetch_from_a_mirror_replaces_a_damaged_copy(keras_home, missing, env, capsys):
    good = _good_weights(missing)
    mirror = keras_home.parent / "mirror"
    (mirror / "keras" / "models").mkdir(parents=True)
    shutil.copy(good, mirror / "keras" / "models" / good.name)
    dst = keras_home / "models" / good.name
    dst.write_bytes(good.read_bytes()[:1000])
    cli_main(["fetch", "--mirror", str(mirror)])
    assert dst.read_bytes() == good.read_bytes()
    assert "replacing a damaged copy" in capsys.readouterr().out


def test_fetch_from_the_mirror_that_hf_home_already_is(env, keras_home, tmp_path, capsys):
    mirror = tmp_path / "mirror"
    snapshot = mirror / "huggingface" / "hub" / "models--x--y" / "snapshots" / "abc" / "config.json"
    snapshot.parent.mkdir(parents=True)
    snapshot.write_text("{}")
    env.set("HF_HOME", mirror / "huggingface")  # the README's set-up: the mirror's huggingface/ is the cache
    env.set("HF_HUB_CACHE", None)
    cli_main(["fetch", "--mirror", str(mirror)])  # crashed with shutil.Error (a folder copied onto itself)
    assert "Traceback" not in capsys.readouterr().err and snapshot.read_text() == "{}"


def test_doctor_says_when_the_data_folder_it_was_given_does_not_exist(env, tmp_path, capsys):
    from tlcourse import settings

    env.set(settings.DATA_ENV, tmp_path / "no such folder")
    env.replace(default_data_dir=tmp_path / "empty")
    assert cli_main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert f"TLCOURSE_DATA_DIR names {tmp_path / 'no such folder'}, which is not a folder" in out


# --------------------------------------------------------------------------- fine-tuning on a tie


def test_fine_tuning_that_only_ties_feature_extraction_is_not_kept():
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    x[:, 0] += np.where(np.arange(64) % 2, 4, -4)  # two classes far apart on the first feature
    y = (np.arange(64) % 2).astype(np.int64)
    top = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4, kernel_initializer="identity", name="t")])
    features = keras.Input((4,))
    head = keras.Model(features, keras.layers.Dense(2, activation="softmax", name="classifier")(top(features)))
    head.get_layer("classifier").set_weights([np.array([[-3, 3], [0, 0], [0, 0], [0, 0]], "float32"), np.zeros(2)])
    split = capstone.CachedSplit(x, np.zeros((64, 2, 2, 3), np.uint8), y)
    cache = capstone.Cache(4, {"train": split, "val": split, "test": split}, 0.0)
    before = [w.copy() for w in head.get_weights()]
    fe = capstone.StageResult("feature_extraction", 1.0, np.zeros((64, 2)), 0.0, val_accuracy=1.0)
    ft = capstone.fine_tune(head, top, cache, epochs=1, learning_rates=(1e-2,), previous=fe)
    assert ft.history["kept"] == [0.0] and ft.val_accuracy == 1.0  # a tie: feature extraction stands
    assert all(np.array_equal(a, b) for a, b in zip(before, head.get_weights()))


# --------------------------------------------------------------------------- end to end


@pytest.mark.slow
def test_train_on_a_folder_with_links_and_copies_trains_every_photo_under_its_own_class(small_folder, tmp_path,
                                                                                       capsys):
    (small_folder / "rose" / "2023").mkdir()
    for f in sorted((small_folder / "rose").glob("*.jpg"))[:2]:
        f.rename(small_folder / "rose" / "2023" / f.name)
    (small_folder / "daisy" / "shared").symlink_to(small_folder / "rose" / "2023", target_is_directory=True)
    (small_folder / "tulip" / "loop").symlink_to("..", target_is_directory=True)
    out = tmp_path / "model"
    code = cli_main(["train", str(small_folder), "--out", str(out), "--image-size", "96", "--fine-tune-epochs", "0"])
    captured = capsys.readouterr()
    assert code == 0 and "Traceback" not in captured.err
    assert "a link out of its class folder" in captured.out
    report = json.loads((out / "report.json").read_text())
    assert report["classes"] == ["daisy", "rose", "tulip"] and sum(report["split_sizes"].values()) == 12
    assert report["duplicates_removed"] == 0 and report["saved_stage"] == "feature_extraction"
    photo = sorted((small_folder / "tulip").glob("*.jpg"))[0]
    assert cli_main(["predict", str(out), str(photo)]) == 0

