"""tlcourse_cli.capstone: the folder audit, the splits, the recipe end to end, and the CLI.

Small real folders built from the course data in tmp_path (a few photos per class).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tlcourse import data
from tlcourse_cli import capstone, cli


def _copy(src_dir: Path, dst_dir: Path, n: int, start: int = 0) -> None:
    dst_dir.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in src_dir.iterdir() if p.suffix.lower() in {".jpg", ".jpeg"})
    for p in files[start:start + n]:
        shutil.copy(p, dst_dir / p.name)


@pytest.fixture
def class_folder(tmp_path: Path, flowers_dir: Path) -> Path:
    """``<class>/*.jpg``: 8 flower photos in each of three classes."""
    root = tmp_path / "flowers"
    for cls in ("daisy", "rose", "tulip"):
        _copy(flowers_dir / cls, root / cls, 8)
    return root


@pytest.fixture
def split_folder(tmp_path: Path) -> Path:
    """``<split>/<class>/*``: ants/bees, train 6 per class, val 3 per class, no test split."""
    src = data.dataset_path("hymenoptera")
    root = tmp_path / "antsbees"
    for cls in ("ants", "bees"):
        _copy(src / "train" / cls, root / "train" / cls, 6)
        _copy(src / "val" / cls, root / "val" / cls, 3)
    return root


# --------------------------------------------------------------------------- audit


def test_audit_class_layout_counts_sizes_and_imbalance(class_folder):
    audit = capstone.audit_folder(class_folder)
    assert audit.layout == "class" and audit.class_names == ["daisy", "rose", "tulip"]
    assert audit.counts() == {"all": {"daisy": 8, "rose": 8, "tulip": 8}}
    assert audit.imbalance == 1.0 and not audit.skipped and not audit.duplicates
    assert len(audit.sizes) == 24 and audit.sizes[0] == (128, 128)
    assert "daisy" in audit.summary()


def test_audit_split_layout(split_folder):
    audit = capstone.audit_folder(split_folder)
    assert audit.layout == "split" and list(audit.splits) == ["train", "val"]
    assert audit.counts()["val"] == {"ants": 3, "bees": 3}


def test_audit_lists_broken_and_non_image_files(class_folder):
    good = sorted((class_folder / "daisy").glob("*.jpg"))[0].read_bytes()
    (class_folder / "daisy" / "truncated.jpg").write_bytes(good[: len(good) // 3])
    (class_folder / "rose" / "text.jpg").write_text("not an image")
    (class_folder / "tulip" / "notes.txt").write_text("a note")
    audit = capstone.audit_folder(class_folder)
    reasons = {Path(p).name: r for p, r in audit.skipped}
    assert set(reasons) == {"truncated.jpg", "text.jpg", "notes.txt"}
    assert "not an image file" in reasons["notes.txt"]
    assert audit.counts()["all"] == {"daisy": 8, "rose": 8, "tulip": 8}
    assert any("skipped" in w for w in audit.warnings)


def test_duplicates_are_kept_once_and_in_the_test_split(split_folder):
    train_file = sorted((split_folder / "train" / "ants").iterdir())[0]
    shutil.copy(train_file, split_folder / "val" / "ants" / "copy_of_train.jpg")
    shutil.copy(train_file, split_folder / "train" / "ants" / "again.jpg")
    audit = capstone.audit_folder(split_folder)
    assert len(audit.duplicates) == 1 and len(audit.duplicates[0]) == 3 and not audit.conflicts
    assert str(split_folder / "val" / "ants" / "copy_of_train.jpg") in audit.splits["val"].files
    assert str(train_file) not in audit.splits["train"].files  # no test photo is also a training photo


def test_a_photo_under_two_classes_is_used_under_neither_and_named(split_folder):
    train_file = sorted((split_folder / "train" / "ants").iterdir())[0]
    shutil.copy(train_file, split_folder / "val" / "ants" / "copy_of_train.jpg")
    shutil.copy(train_file, split_folder / "train" / "bees" / "mislabelled.jpg")
    audit = capstone.audit_folder(split_folder)
    copies = {str(train_file), str(split_folder / "val" / "ants" / "copy_of_train.jpg"),
              str(split_folder / "train" / "bees" / "mislabelled.jpg")}
    used = {f for folder in audit.splits.values() for f in folder.files}
    assert not copies & used and len(audit.conflicts) == 1 and set(audit.conflicts[0]) == copies
    reasons = dict(audit.skipped)
    assert all("under 2 classes (ants, bees" in reasons[c] for c in copies)
    assert any("under two or more classes" in w for w in audit.warnings) and "mislabelled.jpg" in audit.summary()


@pytest.mark.parametrize("make, message", [
    (lambda r: r / "nowhere", "does not exist"),
    (lambda r: (r / "one" / "cats").mkdir(parents=True) or _fill(r / "one" / "cats") or r / "one", "at least two"),
    (lambda r: _two(r) and (r / "two" / "empty").mkdir() or r / "two", "no usable image"),
    (lambda r: (r / "empty").mkdir() or r / "empty", "no images"),
    (lambda r: _two(r) and _loose(r / "loose"), "no class folders"),
    (lambda r: _two(r) and (r / "two" / "test").mkdir() or r / "two", "mixes split folders"),
    (lambda r: (r / "photo.jpg").write_bytes(b"x") and r / "photo.jpg", "is a file, not a folder"),
    (lambda r: _junk(r / "junk"), "no usable images"),
])
def test_bad_folders_get_clear_messages(tmp_path, make, message):
    with pytest.raises(capstone.FolderError, match=message):
        capstone.audit_folder(make(tmp_path))


def _fill(folder: Path, n: int = 4) -> None:
    _copy(data.dataset_path("flowers") / "rose", folder, n)


def _two(root: Path) -> bool:
    _fill(root / "two" / "a")
    _fill(root / "two" / "b")
    return True


def _loose(folder: Path) -> Path:
    _fill(folder)
    return folder


def _junk(root: Path) -> Path:
    """Two class folders with nothing usable: text, a HEIC photo without its plugin, system files."""
    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True)
        (root / cls / "notes.txt").write_text("x")
        (root / cls / "IMG_1.heic").write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 50)
        (root / cls / "Thumbs.db").write_bytes(b"\x00")
    return root


# every wrong folder through the command: a message, exit code 2, no traceback, nothing written
WRONG_FOLDERS = {
    "one class": (lambda r: _fill(r / "one" / "cats") or r / "one", "at least two classes"),
    "an empty class": (lambda r: _two(r) and (r / "two" / "empty").mkdir() or r / "two", "no usable image"),
    "no images": (lambda r: (r / "empty").mkdir() or r / "empty", "no images"),
    "only junk": (lambda r: _junk(r / "junk"), "no usable images"),
    "a path that does not exist": (lambda r: r / "nowhere", "does not exist"),
    "a file": (lambda r: (r / "photo.jpg").write_bytes(b"x") and r / "photo.jpg", "is a file, not a folder"),
}


@pytest.mark.parametrize("case", list(WRONG_FOLDERS))
def test_train_command_on_a_wrong_folder_says_why_and_exits_2(tmp_path, capsys, case):
    make, message = WRONG_FOLDERS[case]
    folder = make(tmp_path)
    code = cli.main(["train", str(folder), "--out", str(tmp_path / "out"), "--quiet"])
    captured = capsys.readouterr()
    assert code == 2, case
    assert captured.err.startswith("error: ") and message in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("flags", "verbose"), [([], 1), (["--quiet"], 0), (["--verbose"], 2)])
def test_train_command_says_as_much_as_asked(tmp_path, monkeypatch, flags, verbose):
    asked = {}
    monkeypatch.setattr(capstone, "train", lambda *a, **kw: asked.update(kw))
    assert cli.main(["train", str(tmp_path), "--out", str(tmp_path / "out"), *flags]) == 0
    assert asked["verbose"] == verbose


def test_train_command_refuses_quiet_and_verbose_together(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", str(tmp_path), "--out", str(tmp_path / "out"), "--quiet", "--verbose"])
    assert exit_.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_one_folder_too_high_gets_a_hint(tmp_path):
    _two(tmp_path / "photos")
    with pytest.raises(capstone.FolderError, match=r"holds the class folders \(a, b\), give .*photos.two instead"):
        capstone.audit_folder(tmp_path / "photos")


def test_audit_counts_hidden_files_and_reads_nested_folders(split_folder):
    (split_folder / ".DS_Store").write_bytes(b"\0")
    shutil.copytree(split_folder / "val", split_folder / "train" / ".ipynb_checkpoints")
    nested = split_folder / "train" / "ants" / "from my phone"
    _copy(data.dataset_path("hymenoptera") / "train" / "ants", nested, 2, start=20)
    audit = capstone.audit_folder(split_folder)
    assert audit.counts()["train"] == {"ants": 8, "bees": 6} and not audit.skipped
    assert sorted(Path(p).name for p in audit.ignored) == [".DS_Store", ".ipynb_checkpoints"]
    assert "hidden or system files and folders ignored: 2" in audit.summary()


def test_a_class_with_too_few_images_is_refused(class_folder):
    for p in sorted((class_folder / "rose").iterdir())[2:]:
        p.unlink()
    with pytest.raises(capstone.FolderError, match="Too few images"):
        capstone.audit_folder(class_folder)


def test_split_without_a_class_in_val_is_refused(split_folder):
    shutil.rmtree(split_folder / "val" / "bees")
    with pytest.raises(capstone.FolderError, match="no usable images for class"):
        capstone.audit_folder(split_folder)


# --------------------------------------------------------------------------- splits


def test_class_layout_split_is_stratified_disjoint_and_seeded(class_folder):
    audit = capstone.audit_folder(class_folder)
    s1 = capstone.make_splits(audit, seed=3)
    s2 = capstone.make_splits(audit, seed=3)
    s3 = capstone.make_splits(audit, seed=4)
    assert s1.train.files == s2.train.files and s1.test.files == s2.test.files
    assert s1.test.files != s3.test.files
    files = [set(f.files) for _, f in s1.items()]
    assert not (files[0] & files[1] or files[0] & files[2] or files[1] & files[2])
    assert sum(len(f) for f in files) == 24
    for _, f in s1.items():
        assert min(f.counts().values()) >= 1


def test_split_layout_uses_val_as_test_and_carves_validation(split_folder):
    splits = capstone.make_splits(capstone.audit_folder(split_folder), seed=0)
    assert len(splits.test) == 6 and all("/val/" in f for f in splits.test.files)
    assert all("/train/" in f for f in splits.train.files + splits.val.files)
    assert len(splits.train) + len(splits.val) == 12 and len(splits.val) >= 2
    assert "serves as the test set" in splits.notes[0]


def test_split_layout_with_test_and_validation_folders(split_folder):
    (split_folder / "val").rename(split_folder / "validation")
    src = data.dataset_path("hymenoptera")
    for cls in ("ants", "bees"):
        _copy(src / "val" / cls, split_folder / "test" / cls, 2, start=10)
    splits = capstone.make_splits(capstone.audit_folder(split_folder))
    assert [len(f) for _, f in splits.items()] == [12, 6, 4]


def test_max_per_class_caps_training_images(class_folder):
    splits = capstone.make_splits(capstone.audit_folder(class_folder), max_per_class=3)
    assert max(splits.train.counts().values()) <= 3


# --------------------------------------------------------------------------- recipe, save, predict, CLI


@pytest.mark.slow
def test_train_cli_writes_model_classes_and_report_then_predicts(class_folder, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", str(class_folder), "--out", str(out), "--profile", "quick",
                     "--image-size", "64", "--fine-tune-epochs", "1"]) == 0
    said = capsys.readouterr().out  # a line of validation accuracies a rate, not Keras's line an epoch
    assert "Epoch 1/1" not in said and said.count(", validation accuracy by epoch: ") == 2, said
    report = json.loads((out / "report.json").read_text())
    assert report["classes"] == ["daisy", "rose", "tulip"]
    assert set(report["test_accuracy"]) == {"baseline", "feature_extraction", "fine_tuning"}
    assert all(0 <= v <= 1 for v in report["test_accuracy"].values())
    assert {"audit", "baseline", "feature_extraction", "fine_tuning", "total"} <= set(report["seconds"])
    assert json.loads((out / "classes.json").read_text()) == report["classes"]
    splits = json.loads((out / "splits.json").read_text())  # which photos trained, chose and tested the model
    assert {name: len(splits[name]["files"]) for name in ("train", "val", "test")} == report["split_sizes"]

    model, classes = capstone.load(out)  # safe mode: would fail on a Lambda layer
    assert [layer.name for layer in model.layers][:2] == ["image", "preprocess"]

    image = sorted((class_folder / "rose").glob("*.jpg"))[0]
    capsys.readouterr()
    assert cli.main(["predict", str(out), str(image), str(tmp_path / "missing.jpg")]) == 1  # one unreadable
    captured = capsys.readouterr()
    line = captured.out.strip()
    assert line.startswith(str(image)) and line.split(": ")[1].split(" (")[0] in classes
    assert "no such file" in captured.err
    [pred] = capstone.predict(out, [image])
    assert 0 < pred.probability <= 1


def test_audit_cli_writes_the_splits_it_prints(class_folder, tmp_path, capsys):
    assert cli.main(["audit", str(class_folder), "--seed", "3", "--splits", str(tmp_path / "s.json")]) == 0
    out = capsys.readouterr().out
    saved = json.loads((tmp_path / "s.json").read_text())
    splits = capstone.make_splits(capstone.audit_folder(class_folder), seed=3)
    assert saved["classes"] == splits.class_names and saved["notes"] == splits.notes
    for name, folder in splits.items():
        assert saved[name]["files"] == folder.files and saved[name]["labels"] == folder.labels.tolist()
        assert f"{name:<5} {len(folder):>5} images" in out


def test_audit_cli_refuses_a_splits_path_it_cannot_write_before_the_audit(class_folder, tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    assert cli.main(["audit", str(class_folder), "--splits", str(tmp_path / "taken")]) == 2
    captured = capsys.readouterr()
    assert "is a folder: give a file" in captured.err and "usable images" not in captured.out
    (tmp_path / "a_file").write_text("mine")
    assert cli.main(["audit", str(class_folder), "--splits", str(tmp_path / "a_file" / "s.json")]) == 2
    assert "cannot be written" in capsys.readouterr().err and (tmp_path / "a_file").read_text() == "mine"


def test_audit_cli_leaves_no_half_written_splits_when_the_write_fails(class_folder, tmp_path, capsys, monkeypatch):
    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli.os, "replace", disk_full)
    out = tmp_path / "runs"
    assert cli.main(["audit", str(class_folder), "--splits", str(out / "s.json")]) == 2
    assert "cannot be written (No space left on device)" in capsys.readouterr().err
    assert list(out.iterdir()) == []


def test_audit_cli_refuses_a_one_class_folder_with_exit_2(tmp_path, capsys):
    _fill(tmp_path / "one" / "cats")
    assert cli.main(["audit", str(tmp_path / "one"), "--splits", str(tmp_path / "s.json")]) == 2
    assert "at least two classes" in capsys.readouterr().err and not (tmp_path / "s.json").exists()


def test_train_cli_refuses_a_one_class_folder_with_exit_2(tmp_path, capsys):
    _fill(tmp_path / "one" / "cats")
    code = cli.main(["train", str(tmp_path / "one"), "--out", str(tmp_path / "out")])
    assert code == 2 and "at least two classes" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_predict_without_a_model_says_what_to_do(tmp_path, capsys):
    code = cli.main(["predict", str(tmp_path), "x.jpg"])
    assert code == 2 and "tlcourse train" in capsys.readouterr().err


def test_load_refuses_a_model_with_a_lambda_layer(tmp_path):
    import keras

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs))
    model.save(tmp_path / "model.keras")
    (tmp_path / "classes.json").write_text('["a", "b"]')
    with pytest.raises(ValueError, match="(?i)lambda|unsafe|safe_mode"):
        capstone.load(tmp_path)
