"""The first run with internet, as a learner on Colab or Binder meets it, over real HTTP.

A local web server serves every download in its official layout -- ``flower_photos.tgz`` with its plural
class folders and ``LICENSE.txt``, ``hymenoptera_data.zip``, the two LIBSVM USPS files, the UCI zip (with its
``__MACOSX`` folder), the MNIST files and the two MobileNet weights files -- built from the data the other
tests use (a few photos a class, 60 USPS digits; MNIST, the sentences and the weights unchanged). The
registry is pointed at it; ``tlcourse fetch`` then downloads, verifies, extracts and prepares everything
through ``keras.utils.get_file``, as it would from the official addresses, and the lessons' loaders read
what it fetched. The server can cut a file off half-way, as a dropped connection does.

The downloads built here are not the official bytes, so their SHA-256 (or, for USPS, MD5) replaces the
published one; the content checksums of MNIST and the sentences stay the registry's own.
"""

from __future__ import annotations

import bz2
import dataclasses
import functools
import http.server
import shutil
import tarfile
import threading
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from tlcourse import data, settings
from tlcourse_assets import datasets, weights
from tlcourse_assets.files import file_digest
from tlcourse_cli import cli

PLURAL = {"daisy": "daisy", "dandelion": "dandelion", "rose": "roses", "sunflower": "sunflowers", "tulip": "tulips"}
PHOTOS_PER_CLASS = 4
USPS_ROWS = 60


def _libsvm(x: np.ndarray, y: np.ndarray) -> bytes:
    """LIBSVM's USPS lines: ``label index:value ...``, labels 1-10 for the digits 0-9, values in [-1, 1]."""
    lines = [" ".join([str(label + 1)] + [f"{i + 1}:{2 * v - 1:.6f}" for i, v in enumerate(row)])
             for row, label in zip(x, y)]
    return bz2.compress(("\n".join(lines) + "\n").encode())


def _build_downloads(root: Path) -> dict[str, np.ndarray]:
    """Write every official download into ``root`` (weights under ``weights/``); returns the USPS rows served."""
    flowers, ants_bees = data.dataset_path("flowers"), data.dataset_path("hymenoptera")
    with tarfile.open(root / "flower_photos.tgz", "w:gz") as tgz:
        for ours, official in PLURAL.items():
            for photo in sorted((flowers / ours).glob("*.jpg"))[:PHOTOS_PER_CLASS]:
                tgz.add(photo, f"flower_photos/{official}/{photo.name}")
        license_file = root / "LICENSE.txt"
        license_file.write_text("All images in this archive are licensed under the Creative Commons By-Attribution "
                                "License, available at: https://creativecommons.org/licenses/by/2.0/\n")
        tgz.add(license_file, "flower_photos/LICENSE.txt")
    with zipfile.ZipFile(root / "hymenoptera_data.zip", "w") as z:
        for photo in sorted(ants_bees.glob("*/*/*.jpg")):
            if sorted(photo.parent.glob("*.jpg")).index(photo) < PHOTOS_PER_CLASS:
                z.write(photo, f"hymenoptera_data/{photo.relative_to(ants_bees).as_posix()}")
    for gz in data.dataset_path("mnist_test").glob("*.gz"):
        shutil.copy(gz, root / gz.name)
    served = {}
    with h5py.File(data.dataset_path("usps") / "usps.h5") as h5:
        for split, fname in (("train", "usps.bz2"), ("test", "usps.t.bz2")):
            x, y = h5[f"{split}/data"][:USPS_ROWS], h5[f"{split}/target"][:USPS_ROWS]
            (root / fname).write_bytes(_libsvm(x, y))
            served[split] = y
    with zipfile.ZipFile(root / "sentiment_labelled_sentences.zip", "w") as z:
        for f in sorted(data.dataset_path("sentiment_sentences").glob("*.txt")):
            z.write(f, f"sentiment labelled sentences/{f.name}")
            z.writestr(f"__MACOSX/sentiment labelled sentences/._{f.name}", b"\x00\x05\x16\x07")  # as in UCI's zip
    (root / "weights").mkdir()
    for name, alpha in (("mobilenet_v2", 0.35), ("mobilenet", 0.25)):
        path = weights.cached_weights(name, alpha=alpha)
        if path is None:
            pytest.skip(f"needs the {name} {alpha} weights file to serve")
        shutil.copy(path, root / "weights" / path.name)
    return served


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the folder; a path in ``server.cut_once`` is cut off half-way the first time it is asked for."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        name = self.path.lstrip("/")
        self.server.requests.append(name)
        if name not in self.server.cut_once:
            return super().do_GET()
        self.server.cut_once.discard(name)
        body = Path(self.directory, name).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))  # the whole file announced, half of it sent
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.close_connection = True
        return None


@pytest.fixture(scope="module")
def official(tmp_path_factory):
    """The web server, its folder and the USPS labels it serves; stopped after the module."""
    root = tmp_path_factory.mktemp("official")
    usps_labels = _build_downloads(root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    server.requests, server.cut_once = [], set()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, root, usps_labels
    server.shutdown()
    server.server_close()


@pytest.fixture
def online(official, env, monkeypatch, tmp_path):
    """A machine with internet and nothing downloaded yet, whose 'internet' is the local server.

    Returns the server: ``server.requests`` lists the paths asked for, ``server.cut_once`` the ones to cut.
    """
    server, root, _ = official
    server.requests.clear()
    server.cut_once.clear()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    for name, spec in datasets.DATASETS.items():
        remotes = []
        for remote in spec.downloads:
            algorithm = "md5" if remote.md5 else "sha256"
            checksum = {algorithm: file_digest(root / remote.filename, algorithm)} if remote.md5 or remote.sha256 else {}
            remotes.append(dataclasses.replace(remote, url=base + remote.filename, **checksum))
        monkeypatch.setitem(datasets.DATASETS, name, dataclasses.replace(spec, downloads=tuple(remotes)))
    for name in ("mobilenet_v2", "mobilenet"):
        monkeypatch.setitem(weights.BASE_MODELS, name,
                            dataclasses.replace(weights.BASE_MODELS[name], origin=base + "weights/"))
    env.set(settings.OFFLINE_ENV, None)
    env.set(settings.DATA_ENV, tmp_path / "data")
    env.set("KERAS_HOME", tmp_path / "keras")  # a folder Keras has not made yet, as on a first run
    env.replace(default_data_dir=tmp_path / "data")  # last: env.set re-reads the settings
    return server


def test_fetch_downloads_verifies_extracts_and_prepares_everything_and_the_loaders_read_it(online, official, tmp_path,
                                                                                          capsys):
    assert cli.main(["fetch"]) == 0, capsys.readouterr().out
    folder = tmp_path / "data"
    assert sorted(p.name for p in folder.iterdir()) == sorted(datasets.DATASETS)  # no downloads/ left behind
    served = sorted(online.requests)
    assert served == sorted({*served}), f"a file was downloaded twice: {served}"
    assert len(served) == sum(len(s.downloads) for s in datasets.DATASETS.values()) + 2  # + two weights files
    # Flowers: the official plural folders renamed to the course's classes, the licence not taken for a class.
    flowers = data.scan_images(data.dataset_path("flowers"))
    assert flowers.class_names == sorted(PLURAL) and flowers.counts() == dict.fromkeys(PLURAL, PHOTOS_PER_CLASS)
    assert data.load_images(flowers.files[:3], image_size=96).shape == (3, 96, 96, 3)
    assert sorted(p.name for p in (folder / "hymenoptera").iterdir()) == ["train", "val"]
    assert data.scan_images(folder / "hymenoptera" / "val").class_names == ["ants", "bees"]
    x, y = data.load_mnist()
    assert x.shape == (10_000, 28, 28, 1) and sorted(set(y.tolist())) == list(range(10))
    x_usps, y_usps = data.load_usps("test", size=16)
    assert x_usps.shape[0] == USPS_ROWS and 0 <= x_usps.min() and x_usps.max() <= 1
    assert y_usps.tolist() == official[2]["test"].tolist()
    texts, labels = data.load_sentences("yelp")
    assert len(texts) == len(labels) == 1000
    for name, alpha in (("mobilenet_v2", 0.35), ("mobilenet", 0.25)):
        assert weights.check_weights_file(weights.cached_weights(name, alpha=alpha), name) is None


def test_a_download_cut_off_half_way_leaves_nothing_half_made_and_the_next_fetch_goes_on(online, tmp_path, capsys):
    online.cut_once.update({"t10k-labels-idx1-ubyte.gz", "flower_photos.tgz"})
    assert cli.main(["fetch", "mnist_test", "flowers"]) == 1
    out = capsys.readouterr().out
    assert "t10k-labels-idx1-ubyte.gz" in out and "flower_photos.tgz" in out and "incomplete" in out
    assert "again" in out  # what to do: the next fetch goes on from what was verified
    folder = tmp_path / "data"
    assert not (folder / "mnist_test").exists() and not (folder / "flowers").exists()
    kept = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert kept == ["downloads/mnist_test/t10k-images-idx3-ubyte.gz"]  # the first MNIST file, verified; no .part
    online.requests.clear()
    assert cli.main(["fetch", "mnist_test", "flowers"]) == 0
    assert sorted(online.requests) == ["flower_photos.tgz", "t10k-labels-idx1-ubyte.gz"]  # the images not again
    assert data.load_mnist()[0].shape == (10_000, 28, 28, 1)
    assert not (folder / "downloads").exists()
