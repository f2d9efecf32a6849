import os

import pytest

from tlcourse import cli, data, doctor, settings


def test_doctor_with_everything_present_exits_zero(capsys):
    missing = [a.name for a in doctor.course_assets("quick") if not a.available]
    if missing and os.environ.get("CI", "").lower() not in {"1", "true", "yes"}:
        pytest.skip(f"needs the course's assets; missing here: {missing}")
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "Everything the course needs is here" in out and "MISSING" not in out


def test_doctor_says_what_is_missing(env, tmp_path, capsys):
    env.set(settings.DATA_ENV, tmp_path / "empty")
    env.replace(default_data_dir=tmp_path / "empty", hf_hub_cache=tmp_path / "hf" / "hub")
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "[MISSING] data     usps" in out and "tlcourse fetch" in out
    assert "all-MiniLM-L6-v2" in out


def test_fetch_copies_from_a_mirror(env, tmp_path, capsys):
    mirror = tmp_path / "mirror" / "datasets"
    mirror.mkdir(parents=True)
    import shutil

    shutil.copytree(data.dataset_path("usps"), mirror / "usps")
    env.set(settings.DATA_ENV, tmp_path / "classroom")
    assert cli.main(["fetch", "usps", "--mirror", str(tmp_path / "mirror")]) == 0
    assert (tmp_path / "classroom" / "usps" / "usps.h5").is_file()
    assert "[ok     ] data     usps" in capsys.readouterr().out


def test_fetch_offline_without_mirror_fails_with_advice(env, tmp_path, capsys):
    env.set(settings.OFFLINE_ENV, "1")
    env.set(settings.DATA_ENV, tmp_path / "classroom")
    env.replace(default_data_dir=tmp_path / "classroom")
    assert cli.main(["fetch", "mnist_test"]) == 1
    assert "tlcourse fetch mnist_test" in capsys.readouterr().out


def test_unknown_command_is_an_argparse_error():
    with pytest.raises(SystemExit):
        cli.main(["frobnicate"])
