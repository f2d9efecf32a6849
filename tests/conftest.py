"""Shared fixtures: small real images from the course data, and broken files beside them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tlcourse import data


@pytest.fixture(scope="session")
def flowers_dir() -> Path:
    return data.dataset_path("flowers")


@pytest.fixture
def small_folder(tmp_path: Path, flowers_dir: Path) -> Path:
    """``tmp/<class>/*.jpg``: four real flower photos in each of three classes."""
    root = tmp_path / "small"
    for cls in ("daisy", "rose", "tulip"):
        (root / cls).mkdir(parents=True)
        for src in sorted((flowers_dir / cls).glob("*.jpg"))[:4]:
            shutil.copy(src, root / cls / src.name)
    return root


@pytest.fixture
def broken_folder(small_folder: Path) -> Path:
    """The small folder plus a truncated JPEG, a text file named .jpg and a stray note."""
    good = sorted((small_folder / "daisy").glob("*.jpg"))[0].read_bytes()
    (small_folder / "daisy" / "truncated.jpg").write_bytes(good[: len(good) // 3])
    (small_folder / "rose" / "not_a_photo.jpg").write_text("this is text, not an image")
    (small_folder / "tulip" / "notes.txt").write_text("a note")
    return small_folder


@pytest.fixture
def keras_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Keras cache, as on a machine that has downloaded nothing."""
    from keras.src.backend import config

    home = tmp_path / "keras_home"
    (home / "models").mkdir(parents=True)
    monkeypatch.setattr(config, "_KERAS_DIR", str(home))
    return home
