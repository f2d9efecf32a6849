import bz2
import gzip
import hashlib
import io
import re
import shutil
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tlcourse import data, settings
from tlcourse_assets import files

# ----------------------------------------------------------------- registry and data directory


def test_registry_names_official_sources_and_required_files():
    assert set(data.DATASETS) == {"flowers", "hymenoptera", "mnist_test", "usps", "sentiment_sentences"}
    for spec in data.DATASETS.values():
        assert spec.required and spec.downloads and spec.prepare is not None
        assert all(r.url.startswith("https://") for r in spec.downloads)


def test_data_dirs_reads_environment(env, tmp_path):
    env.set(settings.DATA_ENV, f"{tmp_path / 'a'}{__import__('os').pathsep}{tmp_path / 'b'}")
    dirs = data.data_dirs()
    assert dirs[:2] == [tmp_path / "a", tmp_path / "b"]
    assert data.data_dir() == tmp_path / "a"


def test_every_dataset_is_found_and_verified():
    for name in data.DATASETS:
        folder = data.dataset_path(name)
        assert folder.name == name and folder.is_dir()


def test_unknown_dataset_is_a_clear_error():
    with pytest.raises(KeyError, match="Unknown data set 'cifar'"):
        data.dataset_path("cifar")


@pytest.fixture
def empty_data(env, tmp_path):
    """An empty data folder; downloads allowed (the tests use local file:// sources)."""
    env.set(settings.OFFLINE_ENV, None)
    env.set(settings.DATA_ENV, tmp_path / "data")
    env.replace(default_data_dir=tmp_path / "data")
    return tmp_path / "data"


def test_missing_dataset_offline_says_what_and_how(env, empty_data):
    env.replace(offline=True)
    with pytest.raises(data.DataNotFoundError) as err:
        data.dataset_path("usps")
    msg = str(err.value)
    assert "usps" in msg and "tlcourse fetch usps" in msg and settings.DATA_ENV in msg
    assert "https://" in msg  # the official source


def test_checksum_mismatch_is_refused(tmp_path, env):
    src = data.dataset_path("mnist_test")
    copy = tmp_path / "data" / "mnist_test"
    shutil.copytree(src, copy)
    with gzip.open(copy / "t10k-labels-idx1-ubyte.gz", "wb") as f:
        f.write(b"\x00\x00\x08\x01" + b"\x00" * 20)
    env.set(settings.DATA_ENV, tmp_path / "data")
    with pytest.raises(data.ChecksumError, match="t10k-labels-idx1-ubyte.gz"):
        data.dataset_path("mnist_test")


# ----------------------------------------------------------------- downloads and archives


def test_download_verifies_checksum_and_keeps_nothing_on_mismatch(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"course data")
    good = files.file_digest(src)
    out = files.download(src.as_uri(), tmp_path / "out.bin", sha256=good)
    assert out.read_bytes() == b"course data"
    with pytest.raises(data.ChecksumError):
        files.download(src.as_uri(), tmp_path / "bad.bin", sha256="0" * 64)
    assert not (tmp_path / "bad.bin").exists() and not (tmp_path / "bad.bin.part").exists()


def test_every_remote_file_has_a_published_checksum_or_a_stated_reason():
    for spec in data.DATASETS.values():
        for remote in spec.downloads:
            checksums = [h for h in (remote.sha256, remote.md5) if h]
            if remote.sha256:
                assert re.fullmatch(r"[0-9a-f]{64}", remote.sha256), remote.filename
            if remote.md5:
                assert re.fullmatch(r"[0-9a-f]{32}", remote.md5), remote.filename
            if checksums:
                assert len(checksums) == 1 and remote.checksum_source.strip(), remote.filename
                assert not remote.no_checksum_reason, remote.filename
            else:
                assert len(remote.no_checksum_reason.split()) >= 8, f"{remote.filename}: no checksum, no reason"
    flowers = data.DATASETS["flowers"].downloads[0]
    assert flowers.sha256.startswith("4c54ace7911a") and "tf_flowers/checksums.tsv" in flowers.checksum_source


@pytest.fixture
def internet(monkeypatch, tmp_path):
    """The real ``keras.utils.get_file`` with the network replaced: ``serve(url, content)`` says what a URL returns."""
    import keras

    real_get_file = keras.utils.get_file
    pages: dict[str, Path] = {}

    def serve(url: str, content: bytes) -> None:
        page = tmp_path / "internet" / str(len(pages))
        page.parent.mkdir(exist_ok=True)
        page.write_bytes(content)
        pages[url] = page

    def get_file(fname, origin, **kwargs):
        return real_get_file(fname, pages[origin].as_uri(), **kwargs)

    monkeypatch.setattr(keras.utils, "get_file", get_file)
    return serve


@pytest.mark.parametrize("name", ["usps", "mnist_test", "hymenoptera"])
def test_a_download_without_its_published_checksum_is_refused(internet, empty_data, name):
    spec = data.DATASETS[name]
    had = empty_data / name / "what_you_had.txt"
    had.parent.mkdir(parents=True)
    had.write_text("the data set as it was")
    for remote in spec.downloads:
        internet(remote.url, b"<html>captive portal</html>")
    with pytest.raises(data.ChecksumError) as err:
        data.dataset_path(name)  # the folder lacks the data set, so it is fetched
    first = spec.downloads[0]
    algorithm, expected = ("sha256", first.sha256) if first.sha256 else ("md5", first.md5)
    actual = hashlib.new(algorithm, b"<html>captive portal</html>").hexdigest()
    msg = str(err.value)
    assert first.filename in msg and expected in msg and actual in msg and first.checksum_source in msg
    assert "tlcourse fetch --mirror DIR" in msg and "nothing you had was changed" in msg
    assert [p.name for p in (empty_data / name).iterdir()] == ["what_you_had.txt"]
    assert had.read_text() == "the data set as it was"
    assert not [p for p in empty_data.rglob("*") if p.is_file() and p != had]  # no download kept, no .part


@pytest.mark.parametrize("algorithm", ["sha256", "md5"])
def test_a_wrong_download_never_replaces_the_file_there_and_the_right_one_does(internet, tmp_path, algorithm):
    url, dest = "https://example.org/usps.bz2", tmp_path / "cache" / "usps.bz2"
    dest.parent.mkdir()
    dest.write_bytes(b"an earlier, truncated download")
    right = {algorithm: hashlib.new(algorithm, b"the published file").hexdigest()}
    internet(url, b"something else")
    with pytest.raises(data.ChecksumError, match="usps.bz2"):
        files.download(url, dest, **right)
    assert dest.read_bytes() == b"an earlier, truncated download"
    internet(url, b"the published file")
    assert files.download(url, dest, **right).read_bytes() == b"the published file"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["usps.bz2"]
    internet(url, b"something else")  # a verified file is kept, not downloaded again
    assert files.download(url, dest, **right).read_bytes() == b"the published file"


def test_fetch_installs_a_download_with_its_published_md5(internet, empty_data, monkeypatch):
    """USPS's checksums are torchvision's MD5s: the right bytes pass through fetch and are prepared."""
    import h5py

    rows = {"usps.bz2": "1 1:-1 2:1\n10 3:0.5\n", "usps.t.bz2": "5 256:1\n"}
    spec = data.DATASETS["usps"]
    downloads = []
    for remote in spec.downloads:
        content = bz2.compress(rows[remote.filename].encode())
        internet(remote.url, content)
        downloads.append(data.RemoteFile(remote.url, remote.filename, md5=hashlib.md5(content).hexdigest(),
                                         checksum_source="this test"))
    monkeypatch.setitem(data.DATASETS, "usps", data.DatasetSpec(**{**spec.__dict__, "downloads": tuple(downloads)}))
    folder = data.dataset_path("usps")
    with h5py.File(folder / "usps.h5") as h5:
        assert h5["train/target"][:].tolist() == [0, 9] and h5["test/target"][:].tolist() == [4]
        assert h5["train/data"][0, :3].tolist() == [0.0, 1.0, 0.5]


def test_download_of_unreachable_url_is_a_connection_error(tmp_path):
    with pytest.raises(ConnectionError, match="Could not download"):
        files.download((tmp_path / "nowhere.zip").as_uri(), tmp_path / "x.zip")


def test_safe_extract_zip_and_tar(tmp_path):
    z = tmp_path / "ok.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("d/a.txt", "a")
    assert (files.safe_extract(z, tmp_path / "z") / "d" / "a.txt").read_text() == "a"
    t = tmp_path / "ok.tgz"
    with tarfile.open(t, "w:gz") as f:
        info = tarfile.TarInfo("d/b.txt")
        info.size = 1
        f.addfile(info, io.BytesIO(b"b"))
    assert (files.safe_extract(t, tmp_path / "t") / "d" / "b.txt").read_text() == "b"


@pytest.mark.parametrize("member", ["../evil.txt", "d/../../evil.txt", "/tmp/evil_abs.txt"])
def test_zip_member_escaping_target_is_refused_and_nothing_written(tmp_path, member):
    z = tmp_path / "bad.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("good.txt", "fine")
        f.writestr(member, "evil")
    target = tmp_path / "out"
    with pytest.raises(data.UnsafeArchiveError, match="outside"):
        files.safe_extract(z, target)
    assert list(target.iterdir()) == []
    assert not (tmp_path / "evil.txt").exists()


def test_tar_with_parent_member_or_outside_link_is_refused(tmp_path):
    for name, kind in (("../evil.txt", tarfile.REGTYPE), ("link", tarfile.SYMTYPE)):
        t = tmp_path / f"bad{kind!r}.tar"
        with tarfile.open(t, "w") as f:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.SYMTYPE:
                info.linkname = "../../etc/passwd"
                f.addfile(info)
            else:
                info.size = 4
                f.addfile(info, io.BytesIO(b"evil"))
        target = tmp_path / f"out{kind!r}"
        with pytest.raises(data.UnsafeArchiveError):
            files.safe_extract(t, target)
        assert list(target.iterdir()) == []


@pytest.fixture(scope="module")
def sentences_dir():
    return data.dataset_path("sentiment_sentences")


def test_fetch_downloads_verifies_and_installs(sentences_dir, monkeypatch, empty_data, tmp_path):
    """The whole download path, from a local 'official' zip laid out like UCI's."""
    mirror = sentences_dir
    archive = tmp_path / "uci.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in mirror.glob("*.txt"):
            z.write(f, f"sentiment labelled sentences/{f.name}")
    spec = data.DATASETS["sentiment_sentences"]
    local = data.DatasetSpec(**{**spec.__dict__, "downloads": (
        data.RemoteFile(archive.as_uri(), "sentiment_labelled_sentences.zip", files.file_digest(archive)),)})
    monkeypatch.setitem(data.DATASETS, "sentiment_sentences", local)
    folder = data.dataset_path("sentiment_sentences")
    assert folder == empty_data / "sentiment_sentences"
    texts, labels = data.load_sentences("imdb")
    assert len(texts) == 1000


def test_fetch_with_wrong_content_keeps_nothing(monkeypatch, empty_data, tmp_path):
    archive = tmp_path / "uci.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name in data.DATASETS["sentiment_sentences"].required:
            z.writestr(f"s/{name}", "altered\t1\n")
    spec = data.DATASETS["sentiment_sentences"]
    local = data.DatasetSpec(**{**spec.__dict__, "downloads": (
        data.RemoteFile(archive.as_uri(), "sentiment_labelled_sentences.zip"),)})
    monkeypatch.setitem(data.DATASETS, "sentiment_sentences", local)
    with pytest.raises(data.ChecksumError):
        data.dataset_path("sentiment_sentences")
    assert not (empty_data / "sentiment_sentences").exists()


def test_prepare_flowers_renames_official_class_folders(tmp_path):
    jpg = next(iter(sorted(data.dataset_path("flowers").glob("rose/*.jpg")))).read_bytes()
    with tarfile.open(tmp_path / "flower_photos.tgz", "w:gz") as t:
        for cls in ("daisy", "roses", "tulips"):
            info = tarfile.TarInfo(f"flower_photos/{cls}/1.jpg")
            info.size = len(jpg)
            t.addfile(info, io.BytesIO(jpg))
    data.DATASETS["flowers"].prepare(tmp_path, tmp_path / "flowers")
    assert sorted(p.name for p in (tmp_path / "flowers").iterdir()) == ["daisy", "rose", "tulip"]


def test_prepare_usps_converts_libsvm_to_course_layout(tmp_path):
    import h5py

    line = "3 " + " ".join(f"{i}:{-1 + 2 * (i % 2)}" for i in range(1, 257)) + "\n"
    for name in ("usps.bz2", "usps.t.bz2"):
        with bz2.open(tmp_path / name, "wt") as f:
            f.write(line * 2)
    data.DATASETS["usps"].prepare(tmp_path, tmp_path / "usps")
    with h5py.File(tmp_path / "usps" / "usps.h5") as h5:
        assert h5["train/data"].shape == (2, 256) and list(h5["test/target"]) == [2, 2]
        assert float(np.min(h5["train/data"])) == 0.0 and float(np.max(h5["train/data"])) == 1.0


# ----------------------------------------------------------------- image folders


def test_scan_skips_and_reports_the_gif_placeholder():
    folder = data.scan_images(data.dataset_path("hymenoptera") / "train")
    assert folder.class_names == ["ants", "bees"]
    assert len(folder) == 244 and folder.counts() == {"ants": 123, "bees": 121}
    (path, reason), = folder.skipped
    # GIFs are read now; this one is a web placeholder ("we're sorry, this image could not be found"), not a photo
    assert path.endswith("imageNotFound.gif") and "placeholder" in reason
    assert data.check_image(path, photos_only=False)[0] is None  # it is a readable GIF all the same


def test_pillow_decode_matches_tensorflow_on_plain_jpegs():
    """The one decode path (Pillow, with JPEG draft scaling) gives what TensorFlow's decoder gave."""
    import tensorflow as tf

    files = data.scan_images(data.dataset_path("hymenoptera") / "val", check=False).files[::20]
    for f in files:
        ours = data.read_rgb(f, 96).astype(np.float32)
        img = tf.io.decode_jpeg(tf.io.read_file(f), channels=3)
        theirs = tf.image.resize(img, (96, 96), antialias=True).numpy()
        assert np.mean(np.abs(ours - theirs)) < 4, f
        assert np.array_equal(data.decode_image(f, 96).numpy(), ours)  # the pipeline reads it the same way


def test_scan_skips_corrupt_files_with_reasons(broken_folder):
    folder = data.scan_images(broken_folder)
    reasons = {Path(p).name: r for p, r in folder.skipped}
    assert set(reasons) == {"truncated.jpg", "not_a_photo.jpg", "notes.txt"}
    assert "truncated" in reasons["truncated.jpg"] and "not an image" in reasons["not_a_photo.jpg"]
    assert len(folder) == 12
    # every image that was kept decodes in the pipeline: no error in the middle of an epoch
    x = data.load_images(folder.files, image_size=32)
    assert x.shape == (12, 32, 32, 3)
    assert "skipped" in folder.summary()


def test_hidden_class_folders_and_system_files_are_ignored_and_counted(small_folder):
    for hidden in (".ipynb_checkpoints", "__MACOSX", ".Trash-1000"):
        shutil.copytree(small_folder / "rose", small_folder / hidden)
    (small_folder / ".DS_Store").write_bytes(b"\0")
    (small_folder / "daisy" / "Thumbs.db").write_bytes(b"\0")
    folder = data.scan_images(small_folder)
    assert folder.class_names == ["daisy", "rose", "tulip"] and len(folder) == 12 and not folder.skipped
    assert sorted(Path(p).name for p in folder.ignored) == [".DS_Store", ".Trash-1000", ".ipynb_checkpoints",
                                                           "Thumbs.db", "__MACOSX"]
    assert "ignored 5 hidden or system" in folder.summary()


def test_empty_class_folder_is_named(small_folder):
    (small_folder / "tulip_empty").mkdir()
    with pytest.raises(ValueError, match="tulip_empty"):
        data.scan_images(small_folder)


def test_wrong_path_and_folder_without_classes(tmp_path):
    with pytest.raises(data.DataNotFoundError, match="does not exist"):
        data.scan_images(tmp_path / "nope")
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.jpg").write_bytes(b"x")
    with pytest.raises(data.DataNotFoundError, match="no class folders"):
        data.scan_images(tmp_path / "flat")


def test_subset_keeps_labels_aligned(small_folder):
    folder = data.scan_images(small_folder)
    sub = folder.subset([0, 5, 11])
    assert sub.files == [folder.files[i] for i in (0, 5, 11)]
    assert list(sub.labels) == [folder.labels[i] for i in (0, 5, 11)]


# ----------------------------------------------------------------- splits


def test_stratified_split_is_disjoint_complete_and_stratified():
    labels = np.repeat([0, 1, 2], [100, 60, 40])
    s = data.stratified_split(labels, val=0.2, test=0.2, seed=3)
    allidx = np.concatenate(list(s.values()))
    assert sorted(allidx) == list(range(200))
    for part, frac in (("val", 0.2), ("test", 0.2), ("train", 0.6)):
        counts = np.bincount(labels[s[part]], minlength=3)
        assert np.all(np.abs(counts - frac * np.array([100, 60, 40])) <= 1)
    again = data.stratified_split(labels, val=0.2, test=0.2, seed=3)
    assert all(np.array_equal(s[k], again[k]) for k in s)


def test_few_shot_picks_k_per_class_seeded():
    labels = np.repeat([0, 1, 2], 10)
    a = data.few_shot(labels, 3, seed=1)
    assert np.bincount(labels[a]).tolist() == [3, 3, 3]
    assert np.array_equal(a, data.few_shot(labels, 3, seed=1))
    assert not np.array_equal(a, data.few_shot(labels, 3, seed=2))
    within = data.few_shot(labels, 20, seed=0, indices=range(0, 15))
    assert within.tolist() == list(range(15))
    assert data.few_shot(labels, None).size == 30


# ----------------------------------------------------------------- tf.data


def test_make_dataset_batches_resized_float_images_with_labels(small_folder):
    folder = data.scan_images(small_folder)
    ds = data.make_dataset(folder.files, folder.labels, image_size=48, batch_size=5)
    batches = list(ds)
    x, y = batches[0]
    assert x.shape == (5, 48, 48, 3) and x.dtype.name == "float32"
    assert 0 <= float(x.numpy().min()) and float(x.numpy().max()) <= 255
    assert np.concatenate([b[1].numpy() for b in batches]).tolist() == folder.labels.tolist()


def test_make_dataset_shuffle_is_seeded_and_augment_applies(small_folder):
    import keras

    folder = data.scan_images(small_folder)

    def order(seed):
        ds = data.make_dataset(folder.files, folder.labels, image_size=16, batch_size=12, shuffle=True, seed=seed)
        return next(iter(ds))[1].numpy().tolist()

    assert order(1) == order(1)
    flip = keras.layers.RandomFlip("horizontal", seed=0)
    ds = data.make_dataset(folder.files, folder.labels, image_size=16, batch_size=12, augment=flip)
    plain = data.make_dataset(folder.files, folder.labels, image_size=16, batch_size=12)
    assert not np.allclose(next(iter(ds))[0].numpy(), next(iter(plain))[0].numpy())


# ----------------------------------------------------------------- digits and text


def test_mnist_and_usps_arrays_at_a_common_size():
    xm, ym = data.load_mnist()
    assert xm.shape == (10000, 28, 28, 1) and xm.dtype == np.float32
    assert 0 <= xm.min() and xm.max() <= 1 and np.bincount(ym).size == 10
    xu, yu = data.load_usps("train")
    assert xu.shape == (7291, 28, 28, 1) and set(np.unique(yu)) == set(range(10))
    xt, _ = data.load_usps("test", size=32)
    assert xt.shape == (2007, 32, 32, 1)
    xb, _ = data.load_usps("test", fit="box")
    assert xb[:, :4].max() == 0 and xb[:, 4:24, 4:24].max() > 0.5
    with pytest.raises(ValueError, match="split"):
        data.load_usps("validation")


def test_sentences_are_parsed_line_by_line():
    for site in ("amazon", "imdb", "yelp"):
        texts, labels = data.load_sentences(site)
        assert len(texts) == 1000 and int(labels.sum()) == 500
        assert all(t and "\t" not in t for t in texts)
    with pytest.raises(KeyError):
        data.load_sentences("twitter")
