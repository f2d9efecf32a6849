"""tlcourse.settings: the environment read once, and read the way the libraries read it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tlcourse import settings


def test_from_env_reads_every_course_variable(tmp_path):
    s = settings.Settings.from_env({
        "TLCOURSE_DATA_DIR": f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}",
        "TLCOURSE_OFFLINE": "yes", "TLCOURSE_PROFILE": " Full ", "TLCOURSE_CAPSTONE_DIR": str(tmp_path),
        "KERAS_HOME": str(tmp_path / "k"), "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"),
    })
    assert s.data_dirs[:2] == [tmp_path / "a", tmp_path / "b"] and len(s.data_dirs) == 3
    assert s.offline and s.hf_offline and s.profile == "full" and s.capstone_dir == tmp_path
    assert s.weights_dir == tmp_path / "k" / "models"
    assert s.hf_hub_cache == tmp_path / "hf" / "hub"


def test_defaults_without_any_variable():
    s = settings.Settings.from_env({})
    assert not s.offline and not s.hf_offline and s.profile is None and s.capstone_dir is None
    assert s.keras_home == Path.home() / ".keras"
    assert s.data_dirs == [s.default_data_dir]


@pytest.mark.parametrize("env", [
    {},
    {"HF_HOME": "/srv/hf"},
    {"HF_HOME": "/srv/hf", "HF_HUB_CACHE": "/fast/hub"},
    {"XDG_CACHE_HOME": "/xdg"},
])
def test_hugging_face_cache_is_where_huggingface_hub_looks(env):
    """The same folder as huggingface_hub.constants, which KerasHub's loader uses, in a fresh process."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE", "XDG_"))}
    code = "from huggingface_hub import constants; print(constants.HF_HUB_CACHE)"
    out = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert settings.Settings.from_env({**clean, **env}).hf_hub_cache == Path(out)


def test_current_is_read_once_and_reload_reads_again(monkeypatch):
    first = settings.current()
    monkeypatch.setenv(settings.PROFILE_ENV, "full")
    assert settings.current() is first  # not re-read behind the lesson's back
    assert settings.reload().profile == "full"


def test_override_is_undone_after_the_block():
    before = settings.current()
    with settings.override(offline=not before.offline) as s:
        assert settings.current() is s and s.offline != before.offline
    assert settings.current() is before
