import pytest

from tlcourse import cli, data, doctor


def test_doctor_with_everything_present_exits_zero(capsys):
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "Everything the course needs is here" in out and "MISSING" not in out


def test_doctor_says_what_is_missing(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "empty"))
    monkeypatch.setattr(data, "_default_data_dir", lambda: tmp_path / "empty")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "[MISSING] data     usps" in out and "tlcourse fetch" in out
    assert "all-MiniLM-L6-v2" in out


def test_fetch_copies_from_a_mirror(monkeypatch, tmp_path, capsys):
    mirror = tmp_path / "mirror" / "datasets"
    mirror.mkdir(parents=True)
    import shutil

    shutil.copytree(data.dataset_path("usps"), mirror / "usps")
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "classroom"))
    assert cli.main(["fetch", "usps", "--mirror", str(tmp_path / "mirror")]) == 0
    assert (tmp_path / "classroom" / "usps" / "usps.h5").is_file()
    assert "[ok     ] data     usps" in capsys.readouterr().out


def test_fetch_offline_without_mirror_fails_with_advice(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "classroom"))
    monkeypatch.setattr(data, "_default_data_dir", lambda: tmp_path / "classroom")
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    assert cli.main(["fetch", "mnist_test"]) == 1
    assert "tlcourse fetch mnist_test" in capsys.readouterr().out


def test_unknown_command_is_an_argparse_error():
    with pytest.raises(SystemExit):
        cli.main(["frobnicate"])


def test_estimate_scales_with_speed():
    slow = doctor.estimate_minutes(doctor.REFERENCE_IMAGES_PER_SECOND / 2)
    assert slow["01_what_is_transfer_learning"] == pytest.approx(2 * doctor.NOTEBOOK_MINUTES["01_what_is_transfer_learning"])
