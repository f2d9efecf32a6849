import shutil

import h5py
import keras
import numpy as np
import pytest

from tlcourse import models, settings
from tlcourse_assets import weights

_WEIGHTS_DIR = settings.current().weights_dir  # the Keras cache the environment gives, read before a test moves it


def test_weights_file_names_follow_keras():
    assert models.weights_file("mobilenet_v2", alpha=0.35) == (
        "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5")
    assert models.weights_file("mobilenet", alpha=0.25) == "mobilenet_2_5_224_tf_no_top.h5"  # at every input size
    assert models.weights_file("efficientnet_b0") == "efficientnetb0_notop.h5"
    assert models.weights_file("resnet50") == "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    with pytest.raises(KeyError, match="vgg"):
        models.weights_file("vgg")
    with pytest.raises(ValueError, match="alpha"):
        models.weights_file("mobilenet_v2", alpha=0.3)
    with pytest.raises(ValueError, match="no width"):
        models.weights_file("resnet50", alpha=1.0)


def test_preprocess_input_is_the_models_own():
    f = models.preprocess_input("mobilenet_v2")
    assert np.allclose(f(np.array([0.0, 255.0])), [-1.0, 1.0])


def test_load_base_has_the_imagenet_weights_not_random_ones():
    path = weights.cached_weights("mobilenet_v2", alpha=0.35)
    if path is None:
        raise models.WeightsNotAvailableError("MobileNetV2 0.35 is not in the Keras cache")  # skipped, not failed
    base = models.load_base("mobilenet_v2", alpha=0.35)
    with h5py.File(path) as h5:
        stored = []
        h5.visititems(lambda n, o: stored.append(np.asarray(o)) if "Conv1" in n and "kernel" in n else None)
    kernel = np.asarray(base.get_layer("Conv1").kernel)
    assert any(s.shape == kernel.shape and np.allclose(s, kernel) for s in stored)
    random = models.load_base("mobilenet_v2", alpha=0.35, input_size=224, weights=None)
    assert not np.allclose(np.asarray(random.get_layer("Conv1").kernel), kernel)


def test_every_input_size_loads_the_one_224_px_file_online_too(keras_home, env, monkeypatch):
    """Keras publishes a 160-px MobileNetV2 file; online, the course still downloads and loads the 224-px one,
    the file a classroom mirror holds and the lessons' figures were measured with."""
    good = _WEIGHTS_DIR / models.weights_file("mobilenet_v2", alpha=0.35)
    if not good.is_file():
        pytest.skip(f"needs {good}")
    asked = []

    def fake_get_file(fname, origin, **kwargs):  # the download, from the Keras cache the environment gives
        asked.append(fname)
        dst = keras_home / "models" / fname
        shutil.copy(good, dst)
        return str(dst)

    env.set(settings.OFFLINE_ENV, None)
    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    base = models.load_base("mobilenet_v2", alpha=0.35, input_size=160)
    assert asked == ["mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5"]
    assert base.output_shape == (None, 5, 5, 1280)
    with h5py.File(good) as h5:
        stored = []
        h5.visititems(lambda n, o: stored.append(np.asarray(o)) if "Conv1" in n and "kernel" in n else None)
    assert any(np.array_equal(s, np.asarray(base.get_layer("Conv1").kernel)) for s in stored)


def test_model_not_in_cache_offline_names_the_file(keras_home, env):
    env.set(settings.OFFLINE_ENV, "1")
    with pytest.raises(models.WeightsNotAvailableError) as err:
        models.load_base("efficientnet_b0")
    msg = str(err.value)
    assert "efficientnetb0_notop.h5" in msg and "internet" in msg and "mirror" in msg
    assert "random" in msg  # says it will not fall back


def test_failed_download_is_reported_not_replaced_by_random_weights(keras_home, env, monkeypatch):
    env.set(settings.OFFLINE_ENV, None)

    def no_network(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- no network")

    monkeypatch.setattr(keras.utils, "get_file", no_network)
    with pytest.raises(models.WeightsNotAvailableError, match="download failed"):
        models.load_base("resnet50")


def test_cached_file_that_cannot_load_is_a_clear_error(keras_home):
    fname = models.weights_file("mobilenet_v2", alpha=0.35)
    (keras_home / "models" / fname).write_bytes(b"not an HDF5 file")
    with pytest.raises(models.WeightsNotAvailableError, match="(?s)are damaged.*tlcourse fetch"):
        models.load_base("mobilenet_v2", alpha=0.35)


def test_freeze_unfreeze_and_summary():
    base = models.load_base("mobilenet_v2", alpha=0.35, input_size=96)
    total = models.trainable_summary(base)["total"]
    base.trainable = False
    assert models.trainable_summary(base)["trainable"] == 0
    names = models.unfreeze_top(base, 20)
    summary = models.trainable_summary(base)
    assert names and 0 < summary["trainable"] < total and summary["total"] == total
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            assert not layer.trainable
    assert base.layers[0].trainable is False or not base.layers[0].weights
    names = models.unfreeze_top(base, from_layer="block_16_expand")
    assert names[0] == "block_16_expand" and "block_15_expand" not in names
    with pytest.raises(ValueError, match="no layer"):
        models.unfreeze_top(base, from_layer="nope")
    with pytest.raises(ValueError, match="exactly one"):
        models.unfreeze_top(base)
    models.unfreeze_top(base, 20, keep_batchnorm_frozen=False)
    assert any(l.trainable for l in base.layers[-20:] if isinstance(l, keras.layers.BatchNormalization))


def test_all_layers_walks_into_nested_models():
    inner = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3), keras.layers.Rescaling(2.0)])
    outer = keras.Sequential([keras.Input((2,)), inner, keras.layers.Dense(1)])
    kinds = [type(layer).__name__ for layer in models.all_layers(outer)]
    assert kinds == ["Sequential", "Dense", "Rescaling", "Dense"]
    assert models.trainable_summary(outer)["trainable_layers"] == 2  # leaves with weights: the two Dense


@pytest.mark.parametrize("name", sorted(models.BASE_MODELS))
def test_each_base_spec_agrees_with_keras_applications(name):
    """One BaseSpec holds every fact about a base: each is checked against Keras's own code and model."""
    import inspect

    spec = models.base_spec(name)
    constructor = getattr(keras.applications, spec.constructor)
    if spec.md5:  # the hash Keras itself checks the download against
        assert spec.md5 in inspect.getsource(inspect.getmodule(constructor))
    x = np.array([[[[0.0, 127.5, 255.0]]]])
    grey = np.full((1, 1, 1, 3), 100.0)
    pre = models.preprocess_input(name)
    if spec.rescale is not None:  # the Rescaling layer the capstone puts in front is the base's preprocess_input
        scale, offset = spec.rescale
        np.testing.assert_allclose(np.asarray(pre(x.copy())), x * scale + offset, atol=1e-6)
    else:  # caffe-style: ImageNet's mean colour subtracted per channel, which no Rescaling layer does
        out = np.asarray(pre(grey.copy())).ravel()
        assert len(set(np.round(out, 3))) == 3, out
    default = spec.default_alpha
    assert set(spec.imagenet_top1) <= set(spec.alphas or [None]) and default in spec.imagenet_top1
    assert all(0.4 < v < 0.9 for v in spec.imagenet_top1.values()) and spec.top1_source
    if spec.cut_layer is not None:
        kwargs = {"alpha": default} if default is not None else {}
        base = constructor(weights=None, include_top=False, input_shape=(96, 96, 3), **kwargs)
        assert spec.cut_layer in {layer.name for layer in base.layers}
