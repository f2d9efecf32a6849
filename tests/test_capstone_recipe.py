"""The capstone's plan, cache and stages: what tlcourse train does between the audit and the saved model."""

from __future__ import annotations

import shutil
from pathlib import Path

import keras
import numpy as np
import pytest

from tlcourse_cli import capstone
from tlcourse_cli.capstone.budget import Speed, estimate_seconds

COUNTS = {"train": 400, "val": 70, "test": 150}
SPEED_224 = Speed(224, bottom=250, head_forward=400, head_train=140)


def test_plan_takes_the_largest_size_and_most_epochs_that_fit():
    roomy = capstone.plan_run(COUNTS, SPEED_224, 600)
    assert (roomy.image_size, roomy.epochs, roomy.learning_rates) == (224, 8, (1e-4, 3e-5))
    assert roomy.estimate_s <= 600
    tight = capstone.plan_run(COUNTS, SPEED_224, 30)
    assert tight.estimate_s <= 30 and (tight.image_size, tight.epochs) < (224, 8)


def test_plan_never_goes_above_the_largest_useful_size_and_says_when_nothing_fits():
    assert capstone.plan_run(COUNTS, SPEED_224, 600, largest=160).image_size == 160
    none = capstone.plan_run({"train": 50_000, "val": 5_000, "test": 5_000}, SPEED_224, 60)
    assert none.epochs == 0 and none.image_size == 128 and "budget" in " ".join(none.notes)


def test_estimate_grows_with_photos_epochs_and_pixels():
    small = estimate_seconds(COUNTS, SPEED_224, 4, 2)
    assert estimate_seconds({k: 2 * v for k, v in COUNTS.items()}, SPEED_224, 4, 2) > small
    assert estimate_seconds(COUNTS, SPEED_224, 8, 2) > small
    assert estimate_seconds(COUNTS, SPEED_224.at(160), 4, 2) < small


def test_largest_useful_size_follows_the_photos():
    assert capstone.largest_useful_size([(640, 480)] * 5) == 224
    assert capstone.largest_useful_size([(200, 180)] * 5) == 192
    assert capstone.largest_useful_size([(100, 90)] * 5) == 160
    assert capstone.largest_useful_size([]) == 224


def _right(k, n):
    return np.r_[np.ones(k), np.zeros(n - k)]


def test_validation_overrules_the_photos_guess_only_where_it_can_tell():
    assert capstone.choose_size({224: _right(180, 200), 160: _right(150, 200)}, 160) == 224
    assert capstone.choose_size({224: _right(150, 200), 160: _right(180, 200)}, 224) == 160
    assert capstone.choose_size({224: _right(33, 36), 160: _right(31, 36)}, 160) == 160  # 2 photos of 36
    assert capstone.choose_size({224: _right(31, 36), 160: _right(33, 36)}, 224) == 224
    assert capstone.choose_size({224: _right(30, 36), 160: _right(30, 36)}, 192) == 160  # no guess probed: the best
    plan = capstone.plan_run(COUNTS, SPEED_224, 600, largest=160)
    plan.probe, plan.guess = {224: 0.5, 160: 0.75}, 160
    assert "probe: validation accuracy 0.500 at 224 px, 0.750 at 160 px; the photos suggested 160 px" in str(plan)


@pytest.fixture(scope="module")
def parts_and_cache(tmp_path_factory):
    from tlcourse import data

    root = tmp_path_factory.mktemp("capstone") / "photos"
    src = data.dataset_path("flowers")
    for cls in ("daisy", "rose"):
        (root / cls).mkdir(parents=True)
        for f in sorted((src / cls).glob("*.jpg"))[:12]:
            shutil.copy(f, root / cls / f.name)
    audit = capstone.audit_folder(root)
    splits = capstone.make_splits(audit, seed=0, val=0.25, test=0.25)
    model, base = capstone.build_model(2, image_size=96)
    parts = capstone.split_model(model, base, "mobilenet_v2")
    cache = capstone.cache_splits(parts.bottom, splits, image_size=96, batch_size=8)
    return model, base, parts, cache, splits


def test_the_probe_scores_each_size_on_validation_and_leaves_out_a_photo_gone_since_the_audit(parts_and_cache):
    *_, splits = parts_and_cache
    correct = capstone.probe_sizes(splits, sizes=(96, 64), per_class=4)
    assert list(correct) == [96, 64] and all(c.shape == (len(splits.val.files),) for c in correct.values())
    assert all(set(np.unique(c)) <= {0.0, 1.0} for c in correct.values())
    gone = splits.val.files[0]
    kept = Path(gone).read_bytes()
    Path(gone).unlink()
    try:
        again = capstone.probe_sizes(splits, sizes=(96,), per_class=4)
    finally:
        Path(gone).write_bytes(kept)
    assert again[96][splits.val.files.index(gone)] == 0, "a photo gone since the audit counts as wrong"


def test_head_on_the_cache_computes_what_the_model_computes_on_the_photo(parts_and_cache):
    from tlcourse.data import load_images

    model, _, parts, cache, splits = parts_and_cache
    x = load_images(splits.test.files, image_size=96)
    np.testing.assert_allclose(capstone.predict_proba(parts.head, cache["test"].activations),
                               capstone.predict_proba(model, x), atol=1e-5)


def test_cache_holds_every_split_and_a_mirror_image_of_each_training_photo(parts_and_cache):
    import tensorflow as tf

    from tlcourse.data import load_images

    _, _, parts, cache, splits = parts_and_cache
    assert sorted(cache.splits) == ["test", "train", "train_flipped", "val"]
    assert [len(cache[k]) for k in ("train", "val", "test")] == [len(splits.train), len(splits.val), len(splits.test)]
    x = load_images(splits.train.files[:2], image_size=96).astype("float32")
    np.testing.assert_allclose(cache["train_flipped"].activations[:2],
                               np.asarray(parts.bottom(tf.image.flip_left_right(x), training=False)), atol=1e-4)
    assert cache["train"].thumbnails.shape[1:] == (16, 16, 3) and cache.megabytes > 0


@pytest.mark.slow
def test_stages_choose_on_validation_and_fine_tuning_keeps_batchnorm_frozen(parts_and_cache):
    _, base, parts, cache, _ = parts_and_cache
    base_line = capstone.baseline(cache)
    fe = capstone.feature_extraction(parts.head, parts.pooled, cache, seed=0)
    assert 0 <= base_line.test_accuracy <= 1 and fe.history["C"][0] in (0.01, 0.1, 1.0, 10.0)
    bn = [layer for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization)]
    stats = [np.array(layer.moving_mean) for layer in bn]
    before = [w.copy() for w in parts.head.get_weights()]
    ft = capstone.fine_tune(parts.head, parts.top, cache, epochs=2, learning_rates=(1e-4, 3e-5), batch_size=8,
                            seed=0, previous=fe)
    assert ft.history["learning_rate"][0] in (1e-4, 3e-5) and ft.history["epoch"][0] in (1.0, 2.0)
    assert all(np.array_equal(s, np.array(layer.moving_mean)) for s, layer in zip(stats, bn)), "BN statistics moved"
    assert not base.trainable_weights, "the base is frozen again after fine-tuning"
    assert ft.history["kept"][0] == float(ft.val_accuracy > fe.val_accuracy)  # a tie keeps feature extraction
    if ft.history["kept"][0]:
        assert any(not np.array_equal(a, b) for a, b in zip(before, parts.head.get_weights()))
    # a previous stage no fine-tuning can beat on validation: the head goes back to where it started
    start = [w.copy() for w in parts.head.get_weights()]
    unbeatable = capstone.StageResult("feature_extraction", 1.0, fe.probabilities, 0.0, 1.01)
    again = capstone.fine_tune(parts.head, parts.top, cache, epochs=1, learning_rates=(1e-4,), batch_size=8,
                               seed=0, previous=unbeatable)
    assert again.history["kept"] == [0.0]
    assert all(np.array_equal(a, b) for a, b in zip(start, parts.head.get_weights()))
    # both stages count the validation photos they get right, so a tie is a tie (Keras's float32 val_accuracy is not)
    alone = capstone.fine_tune(parts.head, parts.top, cache, epochs=1, learning_rates=(1e-4,), batch_size=8, seed=0)
    n_val = len(cache["val"].labels)
    assert alone.history["kept"] == [1.0]  # nothing to beat
    assert all(abs(r.val_accuracy * n_val - round(r.val_accuracy * n_val)) < 1e-9 for r in (fe, alone)), (fe, alone)


def test_test_split_is_whole_when_training_is_capped():
    from tlcourse import data

    src = data.dataset_path("hymenoptera")
    audit = capstone.audit_folder(src)
    full = capstone.make_splits(audit, seed=0)
    capped = capstone.make_splits(audit, seed=0, max_per_class=20)
    assert max(capped.train.counts().values()) <= 20 and max(capped.val.counts().values()) <= 20
    assert capped.test.files == full.test.files
    assert any("test split is whole" in n for n in capped.notes)


@pytest.mark.parametrize(("name", "missing"), [("vgg16", "an input scaling a Rescaling layer can do and a cut layer"),
                                               ("inception_v3", "a cut layer")])
def test_a_base_the_capstone_cannot_cut_or_rescale_is_refused_before_anything_loads(name, missing):
    with pytest.raises(ValueError, match=f"needs {missing} for {name}"):
        capstone.build_model(2, image_size=96, base_name=name)
