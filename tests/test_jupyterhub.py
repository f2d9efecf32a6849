"""The course's JupyterHub configuration (instructors/jupyterhub/), read and then run in a real hub.

The slow test starts a real JupyterHub on free ports: configurable-http-proxy (npm) in front,
DummyAuthenticator with a shared password, SimpleLocalProcessSpawner (every server runs as the
current user, so no system accounts are needed), its database and cookie secret in a temporary
folder, and the shipped jupyterhub_config.py loaded as it is. Two learners are created through
the REST API, their servers started; in each, a kernel started through the server's REST API
runs code over its websocket and reports what a learner's kernel sees: ``tlcourse`` importable,
the mirror's data sets and weights, offline, the quick profile, GPU memory growth. The hub, the
proxy and the servers are stopped at the end.

Without configurable-http-proxy, JupyterHub or a mirror the test is skipped, saying what is
missing; in CI (``CI=true``) it must run, so a missing piece is a failure.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HUB_DIR = ROOT / "instructors" / "jupyterhub"
SHIPPED_CONFIG = HUB_DIR / "jupyterhub_config.py"
LEARNERS = ("ada", "grace")


def shipped_config(environ: dict[str, str]):
    """The Spawner settings jupyterhub_config.py makes when the hub starts with ``environ``."""
    from traitlets.config.loader import PyFileConfigLoader

    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(environ)
        config = PyFileConfigLoader(SHIPPED_CONFIG.name, path=str(HUB_DIR)).load_config()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    spawner = config.Spawner
    # `c.Spawner.environment.update(...)` is kept as a change to apply to the Spawner's default ({}).
    return dict(spawner.environment.get_value({})), list(spawner.cmd)


def test_the_shipped_config_derives_the_learners_variables_from_the_mirror():
    env, cmd = shipped_config({"TLCOURSE_MIRROR": "/srv/m"})
    assert env == {"TLCOURSE_MIRROR": "/srv/m", "TLCOURSE_DATA_DIR": "/srv/m/datasets", "HF_HUB_OFFLINE": "1",
                   "TLCOURSE_OFFLINE": "1", "TLCOURSE_PROFILE": "quick", "TF_FORCE_GPU_ALLOW_GROWTH": "true"}
    assert shipped_config({"TLCOURSE_MIRROR": "/srv/m", "TLCOURSE_DATA_DIR": "/d"})[0]["TLCOURSE_DATA_DIR"] == "/d"
    # The server starts through a shell that makes the writable caches, then runs the server itself.
    assert cmd[:2] == ["sh", "-c"] and cmd[-1] == "jupyterhub-singleuser"


def test_the_start_script_copies_the_caches_once_and_points_keras_and_hf_at_them(tmp_path):
    mirror, home = tmp_path / "mirror", tmp_path / "home"
    (mirror / "keras" / "models").mkdir(parents=True)
    (mirror / "huggingface" / "hub").mkdir(parents=True)
    weights = mirror / "keras" / "models" / "w.h5"
    weights.write_bytes(b"weights")
    weights.chmod(0o444)
    home.mkdir()
    _, cmd = shipped_config({"TLCOURSE_MIRROR": str(mirror)})
    show = [sys.executable, "-c", "import os; print(os.environ['KERAS_HOME']); print(os.environ['HF_HOME'])"]
    env = {"HOME": str(home), "TLCOURSE_MIRROR": str(mirror), "PATH": os.environ.get("PATH", "")}
    copy = home / ".cache/tlcourse/keras/models/w.h5"
    for start in ("first", "second"):
        out = subprocess.run(cmd[:-1] + show, env=env, capture_output=True, text=True, check=True).stdout
        assert out.split() == [str(home / ".cache/tlcourse/keras"), str(home / ".cache/tlcourse/huggingface")]
        assert (home / ".cache/tlcourse/huggingface/hub").is_dir()
        if start == "first":
            assert copy.read_bytes() == b"weights" and copy.stat().st_mode & stat.S_IWUSR, "a writable copy"
            copy.write_bytes(b"changed by the learner")
        else:  # the second start finds the copy and leaves it alone
            assert copy.read_bytes() == b"changed by the learner"


def test_the_zero_to_jupyterhub_values_set_the_same_variables():
    yaml = pytest.importorskip("yaml")  # PyYAML comes with jupyter_events, a JupyterLab dependency
    values = yaml.safe_load((HUB_DIR / "values.yaml").read_text(encoding="utf-8"))["singleuser"]
    env = values["extraEnv"]
    shipped, _ = shipped_config({"TLCOURSE_MIRROR": env["TLCOURSE_MIRROR"]})
    assert set(env) == set(shipped) | {"KERAS_HOME", "HF_HOME"}
    assert {k: env[k] for k in shipped} == shipped
    mounts = [m["mountPath"] for m in values["storage"]["extraVolumeMounts"]]
    assert env["TLCOURSE_MIRROR"] in mounts
    start = values["lifecycleHooks"]["postStart"]["exec"]["command"][-1]
    for cache in ("KERAS_HOME", "HF_HOME"):
        folder, part = env[cache].rsplit("/", 1)
        assert "$cache/$part" in start and part in start and folder in start, cache
    assert any("nvidia.com/gpu" in p.get("kubespawner_override", {}).get("extra_resource_limits", {})
               for p in values["profileList"])


# ---------------------------------------------------------------------------------------------
# A real hub


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


HUB_CONFIG = """\
# The test's hub: the shipped course configuration, then what a laptop needs to run a hub.
load_subconfig({shipped!r})
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {homes!r} + "/{{username}}"
c.Spawner.args = {args!r}
c.Spawner.start_timeout = 240
c.Spawner.http_timeout = 240
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.pid_file = {proxy_pid!r}
c.JupyterHub.db_url = "sqlite:///" + {db!r}
c.JupyterHub.cookie_secret_file = {cookie!r}
c.JupyterHub.services = [{{"name": "course-check", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{"name": "course-check", "services": ["course-check"],
                             "scopes": ["admin:users", "admin:servers", "access:servers"]}}]
"""

# What a learner's kernel reports, as one JSON line.
PROBE = """\
import json, os
import tlcourse
from tlcourse import data, runtime, settings
from tlcourse_assets import text_model
s = settings.current()
flowers = data.dataset_path("flowers", download_if_missing=False)
print(json.dumps({
    "user": os.environ.get("JUPYTERHUB_USER"), "home": os.environ.get("HOME"),
    "package": tlcourse.__file__, "data_path": [str(p) for p in s.data_path],
    "flowers": str(flowers), "flower_photos": sum(1 for _ in flowers.rglob("*.jpg")),
    "weights": sorted(p.name for p in s.weights_dir.glob("*.h5")),
    "keras_home": str(s.keras_home), "hf_hub_cache": str(s.hf_hub_cache),
    "text_model": str(text_model.hf_snapshot()), "offline": s.offline, "hf_offline": s.hf_offline,
    "profile": runtime.active_profile().name,
    "memory_growth": os.environ.get("TF_FORCE_GPU_ALLOW_GROWTH")}))
"""


class Hub:
    """A running hub: its URL and an admin token, with the REST calls the test makes."""

    def __init__(self, url: str, token: str) -> None:
        import requests

        self.url, self.session = url, requests.Session()
        self.session.headers["Authorization"] = f"token {token}"
        self.token = token

    def api(self, method: str, path: str, **kwargs):
        response = self.session.request(method, f"{self.url}/hub/api{path}", timeout=60, **kwargs)
        assert response.status_code < 400, f"{method} {path}: {response.status_code} {response.text[:500]}"
        return response.json() if response.content else None

    def wait_until_ready(self, name: str, timeout: float = 300) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.api("GET", f"/users/{name}")["servers"].get("")
            if server and server.get("ready"):
                return server
            time.sleep(1)
        raise AssertionError(f"{name}'s server was not ready within {timeout:.0f} s")

    def run_in_a_kernel(self, name: str, code: str, timeout: float = 240) -> str:
        """Start a kernel in ``name``'s server, run ``code`` over the kernel's websocket, return its stdout."""
        import websocket

        base = f"{self.url}/user/{name}/api"
        response = self.session.post(f"{base}/kernels", json={"name": "python3"}, timeout=120)
        assert response.status_code == 201, f"{name}: starting a kernel: {response.status_code} {response.text[:500]}"
        kernel = response.json()["id"]
        ws = websocket.create_connection(f"{base.replace('http://', 'ws://')}/kernels/{kernel}/channels",
                                         header=[f"Authorization: token {self.token}"], timeout=timeout)
        msg_id, out = uuid.uuid4().hex, []
        try:
            ws.send(json.dumps({
                "header": {"msg_id": msg_id, "username": name, "session": uuid.uuid4().hex,
                           "msg_type": "execute_request", "version": "5.3", "date": ""},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                            "allow_stdin": False, "stop_on_error": True}}))
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                msg = json.loads(ws.recv())
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "stream" and content["name"] == "stdout":
                    out.append(content["text"])
                elif kind == "error":
                    raise AssertionError(f"{name}'s kernel: {content['ename']}: {content['evalue']}\n"
                                         + "\n".join(content["traceback"])[-3000:])
                elif kind == "status" and content["execution_state"] == "idle":
                    return "".join(out)
            raise AssertionError(f"{name}'s kernel did not finish within {timeout:.0f} s")
        finally:
            ws.close()
            self.session.delete(f"{base}/kernels/{kernel}", timeout=60)


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def hub(tmp_path: Path, missing):
    """A JupyterHub with the course's config, the proxy from npm, the mirror of the tests' environment."""
    proxy = os.environ.get("TLCOURSE_CHP") or shutil.which("configurable-http-proxy")
    if proxy is None:
        missing("configurable-http-proxy is not on PATH (npm install configurable-http-proxy; .ci/run does)")
    try:
        import jupyterhub  # noqa: F401
        import requests  # noqa: F401
        import websocket  # noqa: F401
    except ImportError as exc:
        missing(f"{exc.name} is not installed (pip install -e '.[dev]')")
    singleuser = Path(sys.executable).parent / "jupyterhub-singleuser"
    data_dir = Path(os.environ.get("TLCOURSE_DATA_DIR", "").split(os.pathsep)[0] or "/nonexistent")
    if not (data_dir / "flowers").is_dir():
        missing("no mirror: TLCOURSE_DATA_DIR does not name a folder with the course's data sets")

    token, password = secrets.token_hex(32), secrets.token_urlsafe(12)
    port, hub_port, proxy_api_port = free_port(), free_port(), free_port()
    (tmp_path / "homes").mkdir()
    config = tmp_path / "jupyterhub_config.py"
    config.write_text(HUB_CONFIG.format(
        shipped=str(SHIPPED_CONFIG), password=password, homes=str(tmp_path / "homes"), singleuser=str(singleuser),
        args=["--allow-root"] if os.geteuid() == 0 else [], port=port, hub_port=hub_port,
        proxy_api_port=proxy_api_port, proxy=proxy, proxy_pid=str(tmp_path / "proxy.pid"),
        db=str(tmp_path / "jupyterhub.sqlite"), cookie=str(tmp_path / "jupyterhub_cookie_secret"), token=token))
    # The hub is started the way an instructor would: TLCOURSE_MIRROR names the mirror; the learners'
    # variables come from the shipped config only (a spawner passes on PATH, not the tests' variables).
    env = {k: v for k, v in os.environ.items()
           if k not in {"TLCOURSE_DATA_DIR", "TLCOURSE_PROFILE", "TLCOURSE_OFFLINE", "HF_HUB_OFFLINE", "MPLBACKEND",
                        "KERAS_HOME", "HF_HOME", "HF_HUB_CACHE"}}
    env["TLCOURSE_MIRROR"] = str(data_dir.parent)
    env["PATH"] = os.pathsep.join([str(Path(proxy).parent), str(singleuser.parent), env.get("PATH", "")])
    log = tmp_path / "jupyterhub.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=tmp_path,
                                   env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        import requests

        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise AssertionError(f"jupyterhub exited with {process.returncode}:\n{log.read_text()[-4000:]}")
            try:
                if requests.get(f"{url}/hub/api/", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"no hub at {url} within 120 s:\n{log.read_text()[-4000:]}")
            time.sleep(0.5)
        yield Hub(url, token), password, data_dir, log
    finally:
        stop(process)
        pid_file = tmp_path / "proxy.pid"
        if pid_file.exists():  # the hub stops the proxy it started; make sure
            try:
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass


@pytest.mark.slow
@pytest.mark.hub
def test_two_learners_servers_see_the_course_and_the_mirror(hub):
    import requests

    hub, password, data_dir, log = hub
    started = time.monotonic()

    # The shared password lets a learner in, a wrong one does not.
    for given, admitted in ((password + "x", False), (password, True)):
        browser = requests.Session()
        browser.get(f"{hub.url}/hub/login", timeout=60)
        response = browser.post(f"{hub.url}/hub/login", timeout=60, allow_redirects=False,
                                data={"username": LEARNERS[0], "password": given,
                                      "_xsrf": browser.cookies.get("_xsrf", "")})
        assert (response.status_code == 302) == admitted, (given == password, response.status_code)

    hub.api("POST", "/users", json={"usernames": list(LEARNERS)})
    for name in LEARNERS:
        hub.api("POST", f"/users/{name}/server")
    reports = {}
    for name in LEARNERS:
        hub.wait_until_ready(name)
        lines = [line for line in hub.run_in_a_kernel(name, PROBE).splitlines() if line.startswith("{")]
        assert lines, f"{name}'s kernel printed no report"
        reports[name] = json.loads(lines[-1])
    for name in LEARNERS:
        hub.api("DELETE", f"/users/{name}/server")

    ada, grace = (reports[n] for n in LEARNERS)
    assert (ada["user"], grace["user"]) == LEARNERS
    assert ada["home"] != grace["home"], "each learner has a home of their own"
    for name, report in reports.items():
        assert Path(report["package"]).resolve().is_relative_to(ROOT / "tlcourse"), (name, report["package"])
        assert report["data_path"] == [str(data_dir)], (name, report["data_path"])
        assert Path(report["flowers"]).resolve().is_relative_to(data_dir.resolve()), (name, report["flowers"])
        assert report["flower_photos"] > 0, name
        mirrored = sorted(p.name for p in (data_dir.parent / "keras" / "models").glob("*.h5"))
        assert report["weights"] == mirrored and mirrored, f"{name}: {report['weights']} in {report['keras_home']}"
        # Writable copies of the mirror's caches in the learner's own home, made by the shipped START.
        assert report["keras_home"] == str(Path(report["home"]) / ".cache/tlcourse/keras"), name
        assert Path(report["text_model"]).is_relative_to(Path(report["home"]) / ".cache/tlcourse/huggingface"), name
        assert report["offline"] and report["hf_offline"], name
        assert report["profile"] == "quick", name
        assert report["memory_growth"] == "true", name
    print(f"JupyterHub test: two learners' servers and kernels in {time.monotonic() - started:.0f} s; "
          f"{ada['flower_photos']} flower photos, weights {ada['weights']}")
