import email.message
import socket
import ssl
import urllib.error
from pathlib import Path

import pytest

from tlcourse import data, settings
from tlcourse_assets import files, text_model, weights
from tlcourse_assets.errors import TextModelNotAvailableError, WeightsNotAvailableError
from tlcourse_assets.files import explain_download_failure
from tlcourse_cli import cli, doctor


def test_doctor_with_everything_present_exits_zero(capsys, missing):
    absent = [a.name for a in doctor.course_assets("quick") if not a.available]
    if absent:
        missing(f"needs the course's assets; missing here: {absent}")
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "Everything the course needs is here" in out and "MISSING" not in out


def test_doctor_time_prints_each_lessons_minutes_at_the_measured_speed(monkeypatch, capsys):
    monkeypatch.setattr(doctor, "time_training_step", lambda **_: {"first_step_s": 3.0, "step_s": 0.1,
                                                                   "images_per_s": 320.0})
    cli.main(["doctor", "--time", "--profile", "quick"])
    out = capsys.readouterr().out
    assert "3.0 s the first (tracing), then 320 images/s" in out
    for name, m in doctor.lesson_minutes(320.0).items():
        assert f"{name:32s} {m['teaching']:8.0f} {m['exercises']:9.0f} {m['computing']:9.1f}" in out


def test_doctor_says_what_is_missing(env, tmp_path, capsys):
    env.set(settings.DATA_ENV, tmp_path / "empty")
    env.replace(default_data_dir=tmp_path / "empty", hf_hub_cache=tmp_path / "hf" / "hub")
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "[MISSING] data     usps" in out and "tlcourse fetch" in out
    assert "all-MiniLM-L6-v2" in out


def test_doctor_says_what_to_run_when_tensorflow_is_outside_the_supported_range(monkeypatch, capsys):
    """As on a platform that ships an older TensorFlow (Colab, Kaggle): the fix is printed, the exit code is 1."""
    from importlib import metadata

    from packaging.requirements import Requirement

    from tlcourse import runtime

    real = metadata.version
    monkeypatch.setattr(metadata, "version", lambda name: "2.12.0" if name == "tensorflow" else real(name))
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    declared = [str(r) for r in map(Requirement, metadata.requires("tlcourse"))
                if r.name in ("tensorflow", "keras") and r.marker is None]
    assert "TensorFlow 2.12.0 is outside the versions the course supports" in out
    assert "pip install " + " ".join(f'"{r}"' for r in declared) in out and "Restart session" in out
    assert runtime.TROUBLESHOOTING in out and (Path(__file__).parents[1] / runtime.TROUBLESHOOTING).is_file()


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


# Download failures: what urllib (through keras.utils.get_file) and the Hugging Face client raise,
# faked, and the fix each error message must name.
def keras_style(reason: BaseException) -> Exception:
    """What ``keras.utils.get_file`` raises: a bare Exception, raised while handling urllib's URLError."""
    try:
        try:
            raise urllib.error.URLError(reason)
        except urllib.error.URLError as e:
            raise Exception(f"URL fetch failure on https://example.org/x: {e.errno} -- {e.reason}")  # noqa: B904
    except Exception as exc:  # noqa: BLE001
        return exc


def http_407() -> urllib.error.HTTPError:
    return urllib.error.HTTPError("https://example.org/x", 407, "Proxy Authentication Required", email.message.Message(), None)


class LocalEntryNotFoundError(Exception):
    """Stands for huggingface_hub's error, raised from its HTTP library's ConnectError."""


def hub_style(reason: BaseException) -> Exception:
    try:
        raise LocalEntryNotFoundError("An error happened while trying to locate the files on the Hub") from reason
    except LocalEntryNotFoundError as exc:
        return exc


CERT = "Install Certificates.command"
PROXY = "HTTPS_PROXY and HTTP_PROXY to the proxy"
NO_NETWORK = "No internet"
FAILURES = {
    "certificate": (keras_style(ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
                                                                "failed: unable to get local issuer certificate")), CERT),
    "certificate, text only": (Exception("<urlopen error [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed>"), CERT),
    "proxy 407": (http_407(), PROXY),
    "proxy tunnel": (keras_style(OSError("Tunnel connection failed: 407 Proxy Authentication Required")), PROXY),
    "no DNS (Linux)": (keras_style(socket.gaierror(-3, "Temporary failure in name resolution")), NO_NETWORK),
    "no DNS (macOS)": (keras_style(socket.gaierror(8, "nodename nor servname provided, or not known")), NO_NETWORK),
    "refused": (keras_style(ConnectionRefusedError(111, "Connection refused")), NO_NETWORK),
    "timeout": (keras_style(TimeoutError("timed out")), NO_NETWORK),
    "hub, refused": (hub_style(ConnectionRefusedError(111, "Connection refused")), NO_NETWORK),
    "hub, certificate": (hub_style(ssl.SSLCertVerificationError(1, "certificate verify failed")), CERT),
}


@pytest.mark.parametrize("case", FAILURES)
def test_download_failures_are_explained(case):
    exc, fix = FAILURES[case]
    assert fix in explain_download_failure(exc)


def test_other_failures_get_no_made_up_advice():
    assert explain_download_failure(keras_style(ValueError("unknown url type"))) == ""
    assert explain_download_failure(urllib.error.HTTPError("https://x", 404, "Not Found", email.message.Message(), None)) == ""


@pytest.fixture
def failing_get_file(monkeypatch):
    import keras

    def fake(*args, **kwargs):
        raise keras_style(ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"))

    monkeypatch.setattr(keras.utils, "get_file", fake)


def test_a_data_download_failure_names_the_fix(failing_get_file, tmp_path):
    with pytest.raises(ConnectionError, match="Install Certificates.command"):
        files.download("https://example.org/x.zip", tmp_path / "x.zip")


def test_a_weights_download_failure_names_the_fix(failing_get_file, env):
    env.set(settings.OFFLINE_ENV, None)
    with pytest.raises(WeightsNotAvailableError, match="Install Certificates.command") as info:
        weights.download_weights("mobilenet_v2", alpha=0.35)
    assert "Two ways to get it" in str(info.value)


def test_a_text_model_download_failure_names_the_fix(monkeypatch, env):
    import huggingface_hub

    def fake(*args, **kwargs):
        raise hub_style(socket.gaierror(-2, "Name or service not known"))

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake)
    env.set(settings.OFFLINE_ENV, None)
    env.set("HF_HUB_OFFLINE", None)
    with pytest.raises(TextModelNotAvailableError, match="tlcourse fetch --mirror DIR"):
        text_model.download_text_model()


def test_fetch_prints_the_fix_for_a_failed_download(failing_get_file, env, tmp_path, capsys):
    env.set(settings.OFFLINE_ENV, None)
    env.set(settings.DATA_ENV, tmp_path / "classroom")
    env.replace(default_data_dir=tmp_path / "classroom")
    assert cli.main(["fetch", "usps"]) == 1
    out = capsys.readouterr().out
    assert "CERTIFICATE_VERIFY_FAILED" in out and "Install Certificates.command" in out and "SSL_CERT_FILE" in out


def test_fetch_refuses_a_download_that_is_not_the_published_file(monkeypatch, env, tmp_path, capsys):
    """A captive portal answers every URL with a web page: fetch says which file, both hashes, what to do."""
    import keras

    real_get_file = keras.utils.get_file
    portal = tmp_path / "portal.html"
    portal.write_bytes(b"<html>Sign in to the hotel Wi-Fi</html>")
    monkeypatch.setattr(keras.utils, "get_file", lambda fname, origin, **kw: real_get_file(fname, portal.as_uri(), **kw))
    env.set(settings.OFFLINE_ENV, None)
    env.set(settings.DATA_ENV, tmp_path / "classroom")
    env.replace(default_data_dir=tmp_path / "classroom")
    assert cli.main(["fetch", "usps"]) == 1
    out = capsys.readouterr().out
    published = data.DATASETS["usps"].downloads[0].md5
    assert "usps.bz2 from https://www.csie.ntu.edu.tw/" in out and f"MD5 expected:        {published}" in out
    assert files.file_digest(portal, "md5") in out and "tlcourse fetch --mirror DIR" in out
    assert not [p for p in (tmp_path / "classroom").rglob("*") if p.is_file()]
