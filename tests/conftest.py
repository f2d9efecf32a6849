"""Shared fixtures: settings a test may change, small real images from the course data, broken files."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest

from tlcourse import data, settings
from tlcourse_assets.errors import DataNotFoundError, WeightsNotAvailableError


def in_ci() -> bool:
    """CI (``CI`` set to 1/true/yes) has everything: the mirror, Chromium, configurable-http-proxy."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture
def missing(request: pytest.FixtureRequest):
    """``missing(reason)``: skip a test whose tool or asset this machine lacks, saying what; in CI, fail."""
    def missing(reason: str) -> None:
        if in_ci():
            pytest.fail(f"CI must run {request.node.name}: {reason}")
        pytest.skip(reason)

    return missing


def _skip_if_an_asset_is_missing():
    """A test (or fixture) that needs a data set or weights this machine lacks is skipped, saying what.

    In CI (``CI=true``) the mirror is there, so a missing asset is a failure, never a skip.
    """
    try:
        return (yield)
    except (DataNotFoundError, WeightsNotAvailableError) as exc:
        if in_ci():
            raise
        pytest.skip(f"needs what this machine lacks: {str(exc).splitlines()[0]}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    return (yield from _skip_if_an_asset_is_missing())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    return (yield from _skip_if_an_asset_is_missing())


@pytest.fixture(autouse=True)
def _settings_from_the_environment():
    """Every test starts and ends with the settings the environment gives (tests may change both)."""
    settings.reload()
    yield
    settings.reload()


class Env:
    """Change an environment variable or a setting for one test; the settings follow at once."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch

    def set(self, name: str, value: object | None) -> settings.Settings:
        """Set ``name`` (``None`` removes it) and re-read the settings."""
        if value is None:
            self.monkeypatch.delenv(name, raising=False)
        else:
            self.monkeypatch.setenv(name, str(value))
        return settings.reload()

    def replace(self, **changes: object) -> settings.Settings:
        """Change settings that no variable sets (for example the default data folder)."""
        new = dataclasses.replace(settings.current(), **changes)
        self.monkeypatch.setattr(settings, "_CURRENT", new)
        return new


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Env:
    return Env(monkeypatch)


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
def keras_home(tmp_path: Path, env: Env) -> Path:
    """An empty Keras cache, as on a machine that has downloaded nothing."""
    home = tmp_path / "keras_home"
    (home / "models").mkdir(parents=True)
    env.set("KERAS_HOME", home)
    return home
