# %% [markdown]
# # 01 What is transfer learning? Measured, not promised
#
# Transfer learning reuses a model trained on one task (the *base model*, here MobileNetV2 trained on
# ImageNet's 1.2 million photos) for another task with far less data. The usual promise is: less data,
# less training time, better results. This notebook measures each part of that promise on real flower
# photos, and shows where it holds and by how much.
#
# **You will learn**
# - what a pretrained base has learned: its first filters, its feature maps, which photos it finds alike;
# - how accuracy grows with labelled images per class, from scratch and with pretrained features;
# - how long each approach takes to reach the same accuracy;
# - how to make your own base model: pretrain on a task with plenty of data, reuse it where data is scarce.
#
# **Prerequisites:** 00_setup_check; a first Keras model (`compile`, `fit`); logistic regression.
#
# **Terms:** [the course glossary](GLOSSARY.md).
#
# **Estimated time:** (generated from tlcourse/minutes.json)

# %%
import tlcourse  # noqa: I001 - first: it keeps TensorFlow's start-up log lines out of the notebook
import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from sklearn.linear_model import LogisticRegression

from tlcourse import claims, data, features, interactive, models, plots, training
from tlcourse.exercises import what_is_tl
from tlcourse.scratch import digits_cnn, small_cnn

report = tlcourse.setup(seed=42)

# %% [markdown]
# The profile sizes the lesson: the quick profile (CPU, tests) uses at most `MAX_PER_CLASS` training
# photos per class and three seeds; the full profile (GPU) uses all photos and larger images.

# %%
PROFILE = report.profile
IMAGE_SIZE = PROFILE.image_size          # the pretrained base's input (the mirror's photos are 128 px)
SCRATCH_SIZE = 48 if PROFILE.name == "quick" else 96  # the CNN from scratch: small images train fast
BASE_MODEL, BASE_ALPHA = PROFILE.base_model, PROFILE.base_alpha
MAX_PER_CLASS = PROFILE.max_per_class    # training pool per class ("all" below means this many)
TEST_PER_CLASS = 100
SHOTS = [1, 5, 20, None] if PROFILE.name == "quick" else [1, 5, 10, 20, 50, None]  # None = whole pool
SEEDS = list(range(PROFILE.seeds))
SCRATCH_EPOCHS, SCRATCH_MIN_STEPS = PROFILE.epochs, 60
ledger = claims.Ledger("01_what_is_transfer_learning")   # the lesson's claims and what it measured of them
print(PROFILE.name, IMAGE_SIZE, MAX_PER_CLASS, SEEDS)

# %% [markdown]
# ## 1. The data: a test set kept aside, and a pool to draw labelled photos from
#
# One seeded split: `TEST_PER_CLASS` photos of each class are the test set, never used for training or
# choosing anything. The training pool holds `MAX_PER_CLASS` photos per class; the experiments below
# draw k of them per class.

# %%
flowers = data.scan_images(data.dataset_path("flowers"))
CLASSES = flowers.class_names
test_idx = data.few_shot(flowers.labels, TEST_PER_CLASS, seed=0)
rest = np.setdiff1d(np.arange(len(flowers)), test_idx)
pool_idx = data.few_shot(flowers.labels, MAX_PER_CLASS, seed=0, indices=rest)
x_all = data.load_images([flowers.files[i] for i in np.concatenate([pool_idx, test_idx])], image_size=IMAGE_SIZE)
x_pool, x_test = x_all[: len(pool_idx)], x_all[len(pool_idx):]
y_pool, y_test = flowers.labels[pool_idx], flowers.labels[test_idx]
print("pool", x_pool.shape, np.bincount(y_pool), "test", x_test.shape, np.bincount(y_test))

# %% [markdown]
# ## 2. The base model and what it learned
#
# `include_top=False` drops ImageNet's 1000-class classifier and keeps the convolutional base. Its
# first convolution looks at 3x3 patches of colour; its filters are what ImageNet taught it to look for
# first: edges, colour contrasts.

# %%
base = models.load_base(BASE_MODEL, alpha=BASE_ALPHA, input_size=IMAGE_SIZE)
preprocess = models.preprocess_input(BASE_MODEL)
first_conv = next(l for l in base.layers if isinstance(l, keras.layers.Conv2D))
kernels = first_conv.get_weights()[0]          # (3, 3, 3 colours, filters)
print(first_conv.name, kernels.shape, f"{base.count_params():,} parameters in the base")

# %%
# extra code - the first layer's filters as little colour images
k = (kernels - kernels.min()) / (kernels.max() - kernels.min())
fig, axes = plt.subplots(1, k.shape[-1], figsize=(k.shape[-1] * 0.8, 1))
for i, ax in enumerate(axes):
    ax.imshow(k[..., i], interpolation="nearest")
    ax.axis("off")
fig.suptitle(f"{first_conv.name}: {k.shape[-1]} filters of 3x3x3");

# %% [markdown]
# Feature maps: what one photo looks like to the network. Early layers keep the picture (edges and
# colour blobs at high resolution); deep layers keep little of the picture and much about *what* is in
# it (few pixels, many channels).

# %%
LAYERS = {"shallow": "block_1_expand_relu", "deep": "block_13_expand_relu"}
probe = keras.Model(base.input, [base.get_layer(n).output for n in LAYERS.values()])
maps = probe(preprocess(x_test[:1].astype("float32")), training=False)
for (depth, name), fmap in zip(LAYERS.items(), maps):
    print(f"{depth:8s} {name}: {tuple(fmap.shape[1:])}")

# %%
# extra code - the photo and six channels of each feature map
fig, axes = plt.subplots(2, 7, figsize=(12, 3.6))
for row, fmap in enumerate(maps):
    axes[row, 0].imshow(x_test[0]); axes[row, 0].set_title(list(LAYERS)[row])
    for j in range(6):
        axes[row, j + 1].imshow(np.asarray(fmap[0, ..., j]), cmap="viridis")
for ax in axes.ravel():
    ax.axis("off")

# %% [markdown]
# The pooled output of the base is a vector per photo (its *embedding*). Photos the network finds alike
# are close in that space. Below, for a few test photos, the nearest photos of the pool by cosine
# similarity; then a number: how often the single nearest neighbour has the same class, in the
# embedding against in raw pixels. The photos are preprocessed before they enter the extractor
# (`preprocess` returns a new array), so the model holds only Keras layers and saves cleanly.

# %%
extractor = keras.Sequential([keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3)), base,
                              keras.layers.GlobalAveragePooling2D()], name="extractor")
start = time.perf_counter()
f_pool = features.cached_features(extractor, preprocess(x_pool.astype("float32")), name="flowers_pool", cache_dir=None)
f_test = features.cached_features(extractor, preprocess(x_test.astype("float32")), name="flowers_test", cache_dir=None)
extract_seconds = time.perf_counter() - start
print(f"{len(f_pool) + len(f_test)} photos through the base in {extract_seconds:.1f} s")


# %%
def nearest(queries, keys):
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    k = keys / np.linalg.norm(keys, axis=1, keepdims=True)
    return np.argsort(-q @ k.T, axis=1)


nn_embed = nearest(f_test, f_pool)[:, 0]
pixels = lambda x: x.reshape(len(x), -1).astype("float32") - 127.5
nn_pixel = nearest(pixels(x_test), pixels(x_pool))[:, 0]
acc_nn_embed = np.mean(y_pool[nn_embed] == y_test)
acc_nn_pixel = np.mean(y_pool[nn_pixel] == y_test)
print(f"1-nearest-neighbour accuracy: embedding {acc_nn_embed:.3f}, raw pixels {acc_nn_pixel:.3f}")
assert acc_nn_embed > acc_nn_pixel + 0.15

# %%
# extra code - three queries and their four nearest photos in the embedding space
queries = [0, TEST_PER_CLASS * 2, TEST_PER_CLASS * 4]
order = nearest(f_test[queries], f_pool)[:, :4]
imgs = np.concatenate([np.concatenate([x_test[q: q + 1], x_pool[o]]) for q, o in zip(queries, order)])
labs = np.concatenate([np.concatenate([y_test[q: q + 1], y_pool[o]]) for q, o in zip(queries, order)])
plots.image_grid(imgs, labs, class_names=CLASSES, ncols=5, title="query (left) and its nearest photos");

# %% [markdown]
# ## 3. Less data: accuracy against labelled photos per class
#
# Two learners see the same k photos per class (same seed, same photos):
# - a small CNN from scratch (three conv blocks with BatchNormalization, `SCRATCH_SIZE` px), trained for at least
#   `SCRATCH_MIN_STEPS` steps. Its BatchNormalization momentum is 0.9: with Keras's default 0.99 the
#   moving statistics lag so far behind after a few dozen steps that the model predicts one class;
# - a logistic regression on the pretrained features computed above.
#
# The scratch CNN sees small photos because a step at the base's `IMAGE_SIZE` px costs about
# (`IMAGE_SIZE` / `SCRATCH_SIZE`)² times more, beyond this lesson's budget. So that resolution alone cannot
# decide the comparison, a third learner sees exactly what the CNN sees: a logistic regression on the
# features of the same base fed the `SCRATCH_SIZE`-px photos.

# %%
x_pool_small = tf.image.resize(x_pool, (SCRATCH_SIZE, SCRATCH_SIZE)).numpy()
x_test_small = tf.image.resize(x_test, (SCRATCH_SIZE, SCRATCH_SIZE)).numpy()
base_small = models.load_base(BASE_MODEL, alpha=BASE_ALPHA, input_size=SCRATCH_SIZE, verbose=False)
extractor_small = keras.Sequential([keras.Input((SCRATCH_SIZE, SCRATCH_SIZE, 3)), base_small,
                                    keras.layers.GlobalAveragePooling2D()], name="extractor_small")
f_pool_small = features.extract_features(extractor_small, preprocess(x_pool_small.copy()))
f_test_small = features.extract_features(extractor_small, preprocess(x_test_small.copy()))
print(f"{SCRATCH_SIZE}-px photos {x_pool_small.shape[1:]}, their pretrained features {f_pool_small.shape[1:]}")

# %%
scratch = small_cnn(len(CLASSES), (SCRATCH_SIZE, SCRATCH_SIZE, 3), filters=(16, 32, 64))
scratch.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=["accuracy"], jit_compile=False)


def train_scratch(idx, seed, validation=False):
    training.fresh_start(scratch, seed)   # new random weights, optimizer reset: no recompile, no new trace
    if not validation:   # few photos: repeat them to make SCRATCH_MIN_STEPS batches in one pass (fast)
        rng = np.random.default_rng(seed)
        n = max(len(idx) * SCRATCH_EPOCHS, SCRATCH_MIN_STEPS * 32)
        idx = np.concatenate([rng.permutation(idx) for _ in range(int(np.ceil(n / len(idx))))])[:n]
    timer = training.EpochTimer()
    history = scratch.fit(x_pool_small[idx], y_pool[idx], batch_size=32, epochs=1 if not validation else
                          SCRATCH_EPOCHS, verbose=0,
                          validation_data=(x_test_small, y_test) if validation else None,
                          callbacks=[timer.callback()])
    return history, timer


# %%
fitted = {}   # (features, photos) -> test accuracy: the whole pool is the same photos every seed, fit it once


def probe_accuracy(idx, f_train, f_eval):
    key = (id(f_train), idx.tobytes())
    if key not in fitted:
        fitted[key] = LogisticRegression(max_iter=300, C=0.1).fit(f_train[idx], y_pool[idx]).score(f_eval, y_test)
    return fitted[key]


results = {"scratch": {}, "pretrained": {}, "pretrained, small photos": {}}
labels_k = [str(k) if k else f"all ({MAX_PER_CLASS})" for k in SHOTS]
start = time.perf_counter()
for k in SHOTS:
    for seed in SEEDS:   # k=None: the same photos every seed, but the scratch CNN starts from other weights
        idx = data.few_shot(y_pool, k, seed=seed)
        train_scratch(idx, seed)
        results["scratch"].setdefault(k, []).append(scratch.evaluate(x_test_small, y_test, verbose=0)[1])
        results["pretrained"].setdefault(k, []).append(probe_accuracy(idx, f_pool, f_test))
        results["pretrained, small photos"].setdefault(k, []).append(probe_accuracy(idx, f_pool_small, f_test_small))
    print(f"k={k}: " + ", ".join(f"{name} {np.mean(r[k]):.3f} +- {np.std(r[k]):.3f}" for name, r in results.items()))
print(f"sweep took {time.perf_counter() - start:.0f} s")

# %% [markdown]
# The plot below is interactive in JupyterLab: move the slider along the labelled photos per class and
# read the three accuracies at that point. Try the smallest k: how far apart are the learners with one
# photo per class, and does the gap close or widen as photos are added?

# %%
# extra code - the curves (mean and spread over seeds), with the slider's k marked and its accuracies printed
sizes = {"scratch": SCRATCH_SIZE, "pretrained": IMAGE_SIZE, "pretrained, small photos": SCRATCH_SIZE}


def draw_sweep(position):
    k = SHOTS[position]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, res in results.items():
        mean = np.array([np.mean(res[s]) for s in SHOTS]); std = np.array([np.std(res[s]) for s in SHOTS])
        ax.errorbar(range(len(SHOTS)), mean, yerr=std, marker="o", capsize=3, label=f"{name} ({sizes[name]} px)")
    ax.axvspan(position - 0.2, position + 0.2, color="gold", alpha=0.3)
    ax.axhline(1 / len(CLASSES), color="grey", ls=":", label="chance")
    ax.set_xticks(range(len(SHOTS)), labels_k); ax.set_xlabel("labelled photos per class")
    ax.set_ylabel("test accuracy"); ax.legend(fontsize=8); ax.set_title(f"flowers, {len(SEEDS)} seeds")
    print(f"{labels_k[position]} photos per class: " + ", ".join(
        f"{name} {np.mean(res[k]):.3f} +- {np.std(res[k]):.3f}" for name, res in results.items()))


interactive.explore(draw_sweep, {"position": interactive.Slider(0, len(SHOTS) - 1, 1, default=1,
                                                                description="labelled photos per class (position)")},
                    title="accuracy against labelled photos per class")

# %% [markdown]
# The check: with 5 photos per class the pretrained features win on *every* seed (same photos for both),
# at the base's resolution and at the scratch model's, and the mean gain is more than twice its standard
# error across seeds. The lines printed first give the gain at every k, for both resolutions.

# %%
def gain(name, k):
    return np.array(results[name][k]) - np.array(results["scratch"][k])


def beyond_spread(g):
    return g.min() > 0 and g.mean() > 2 * g.std(ddof=1) / np.sqrt(len(g))


for k in SHOTS:
    for name in ("pretrained", "pretrained, small photos"):
        print(f"k={k}, {name} minus scratch: gain per seed {np.round(gain(name, k), 3)}, "
              f"{'beyond' if beyond_spread(gain(name, k)) else 'inside'} the spread")
assert beyond_spread(gain("pretrained", 5)) and beyond_spread(gain("pretrained", 20))
assert beyond_spread(gain("pretrained, small photos", 5))

def scratch_matches(name):   # the smallest k at which the scratch CNN reaches `name`'s accuracy with 5 per class
    matched = [label for k, label in zip(SHOTS, labels_k) if np.mean(results["scratch"][k]) >= np.mean(results[name][5])]
    return matched[0] if matched else f"none up to {labels_k[-1]}"


matches = {name: scratch_matches(name) for name in ("pretrained", "pretrained, small photos")}
for name, k in matches.items():
    print(f"the scratch CNN matches {name} with 5 photos per class ({np.mean(results[name][5]):.3f}) at k = {k}")
ledger.record("transfer needs less labelled data", section="3", value=gain("pretrained", 5).mean(),
              spread=gain("pretrained", 5).std(), verdict="shown",
              figure=f"test accuracy with 5 labelled photos per class, pretrained features minus the scratch CNN "
                     f"(same photos), mean (std) over {len(SEEDS)} seeds",
              note=f"the scratch CNN needs k = {matches['pretrained']} to match; at equal resolution ({SCRATCH_SIZE} px) "
                   f"the gain at 5 per class is {gain('pretrained, small photos', 5).mean():.3f} and scratch needs "
                   f"k = {matches['pretrained, small photos']}");

# %% [markdown]
# Read the lines for the small photos too: at equal resolution the gain is smaller, and on this run beyond
# the spread only at some k (the lines above say which). Part of what the pretrained features gain over
# the scratch CNN at the base's size is resolution, which the CNN was not given.

# %% [markdown]
# Given the same photos, is the pretrained model better, not only cheaper in labels? On the whole pool, at
# the base's resolution and at the scratch model's:

# %%
better, better_small = gain("pretrained", None), gain("pretrained, small photos", None)
print(f"whole pool, pretrained minus scratch: {np.round(better, 3)}; at {SCRATCH_SIZE} px: {np.round(better_small, 3)} "
      f"({'beyond' if beyond_spread(better_small) else 'inside'} the spread)")
assert beyond_spread(better)
ledger.record("transfer gives better results", section="3", value=better.mean(), spread=better.std(),
              figure=f"test accuracy on the whole pool ({MAX_PER_CLASS} per class), pretrained features at {IMAGE_SIZE} px "
                     f"minus the scratch CNN at {SCRATCH_SIZE} px, mean (std) over {len(SEEDS)} seeds",
              verdict="shown" if beyond_spread(better_small) else "mixed",
              note=f"scratch CNN trained {SCRATCH_EPOCHS} epochs at {SCRATCH_SIZE} px; at that size the pretrained "
                   f"features' gain is {better_small.mean():.3f} ({'beyond' if beyond_spread(better_small) else 'inside'} "
                   f"the spread); longer scratch training not measured");

# %% [markdown]
# How big the gain is depends on the base. The offline mirror only has the smallest ImageNet MobileNets
# (MobileNetV2 0.35 has about 60% ImageNet top-1 accuracy, against 71% for the full-width model, in the
# Keras Applications table), and better ImageNet models give better features for other tasks (Kornblith,
# Shlens and Le, 2019, Figure 1). The scratch model trains for `SCRATCH_EPOCHS` epochs on small photos,
# seconds in the quick profile; longer training may take it further on the whole pool, by an amount this
# lesson does not measure. The comparison holds at this budget, not at every budget.
#
# ## 4. Less time: wall time to reach the scratch model's best accuracy
#
# Train the scratch model on the whole pool and time each epoch; then train a dense head on the cached
# features, counting the time the features took to compute.

# %%
idx_all = data.few_shot(y_pool, None)
hist_scratch, timer_scratch = train_scratch(idx_all, 0, validation=True)
scratch_best = max(hist_scratch.history["val_accuracy"])
keras.utils.set_random_seed(0)
head = keras.Sequential([keras.Input(f_pool.shape[1:]), keras.layers.Dropout(0.2), keras.layers.Dense(len(CLASSES), dtype="float32")])
head.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
             metrics=["accuracy"], jit_compile=False)
timer_head = training.EpochTimer()
hist_head = head.fit(f_pool, y_pool, epochs=30, batch_size=32, verbose=0, validation_data=(f_test, y_test),
                     callbacks=[timer_head.callback()])

# %%
t_scratch = training.time_to_reach(timer_scratch.times, hist_scratch.history["val_accuracy"], scratch_best)
t_head = training.time_to_reach(timer_head.times, hist_head.history["val_accuracy"], scratch_best,
                                offset=extract_seconds)
head_best = max(hist_head.history["val_accuracy"])
assert t_head is not None and head_best > scratch_best + 0.05
t_head_training = t_head - extract_seconds
print(f"scratch: best {scratch_best:.3f} after {t_scratch:.1f} s of training")
print(f"pretrained features + head: best {head_best:.3f}; reached {scratch_best:.3f} after {t_head_training:.1f} s "
      f"of training, {t_head:.1f} s with the {extract_seconds:.1f} s that computed the features (once)")
print(f"training time: {t_scratch / t_head_training:.1f}x shorter; with the features: {t_scratch / t_head:.1f}x")
assert t_head_training < t_scratch
ledger.record("transfer needs less training time", section="4", value=t_scratch / t_head_training, unit="x",
              figure=f"wall time for the scratch CNN to reach its best test accuracy ({scratch_best:.3f}) over the time "
                     f"the head on cached features took to reach it, one run; {t_scratch / t_head:.1f}x counting the "
                     f"{extract_seconds:.0f} s that computed the features",
              verdict="shown" if t_head < t_scratch else "mixed",
              note="training alone is shorter; whether the total is depends on feature extraction and the scratch budget");

# %% [markdown]
# Read the two times with care. Training the head on cached features is much faster than training the
# scratch model, and it goes much further. Whether the total, feature extraction included, is shorter
# depends on how long the scratch model is allowed to train: here it trains `SCRATCH_EPOCHS` epochs on
# `SCRATCH_SIZE`-px photos (and stops far below the pretrained model), and the last line above says which
# total was shorter on this run. Features are computed once and cached (02_feature_extraction), so every
# further experiment pays only the head.
#
# (Accuracy per epoch here is measured on the test set, to keep the lesson short; a real project would
# watch a validation split and touch the test set once.)
#
# ## 5. Train a model to reuse it: digits 0-4, then digits 5-9
#
# Where no pretrained base fits your data, make one: train on a related task where labels are plentiful,
# then reuse it where they are scarce. Here: a small CNN learns MNIST digits 0-4 from about 5,000
# images (two epochs); its convolutional part is then reused, frozen, with a new head for digits 5-9 from
# only 5 labelled images per class, against the same CNN trained from scratch on those 25 images.
# What to reuse: the convolutions (strokes, loops, corners), up to `Flatten`. The dense layer after them
# was trained to separate 0-4 only and may keep little else; a third model reuses the whole of
# `source_fe`, that dense layer included, to measure what it costs.

# %%
x_digits, y_digits = data.load_mnist()
low, high = y_digits < 5, y_digits >= 5
keras.utils.set_random_seed(0)
source_fe, source_clf = digits_cnn(num_classes=5)
source_model = keras.Sequential([source_fe, source_clf])
source_model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                     metrics=["accuracy"], jit_compile=False)
source_model.fit(x_digits[low], y_digits[low], epochs=2, batch_size=64, verbose=0)
print("digits 0-4 training accuracy:", round(source_model.evaluate(x_digits[low], y_digits[low], verbose=0)[1], 3))

# %%
x_high, y_high = x_digits[high], y_digits[high] - 5
SHOTS_DIGITS = 5
conv_part = keras.Sequential(source_fe.layers[:9], name="conv_part")   # up to Flatten: the reusable part
conv_part.trainable = False
print([layer.name for layer in conv_part.layers])


def digits_model_for(extractor):
    model = keras.Sequential([extractor, keras.layers.Dense(5, dtype="float32")])
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=False)
    return model


source_fe.trainable = False   # for the third model: the whole pretrained extractor, frozen
digit_models = {"from scratch": digits_model_for(digits_cnn(num_classes=5)[0]),
                "pretrained on 0-4": digits_model_for(conv_part),
                "pretrained on 0-4, dense layer included": digits_model_for(source_fe)}


# %%
def digits_run(model, seed):
    training.fresh_start(model, seed)       # frozen conv_part keeps its pretrained weights
    train = data.few_shot(y_high, SHOTS_DIGITS, seed=seed)
    test = np.setdiff1d(np.arange(len(y_high)), train)
    model.fit(x_high[train], y_high[train], epochs=30, batch_size=25, verbose=0)
    return model.evaluate(x_high[test], y_high[test], verbose=0)[1]


digits = {name: [digits_run(model, s) for s in SEEDS] for name, model in digit_models.items()}
for name, accs in digits.items():
    print(f"digits 5-9, {SHOTS_DIGITS} per class, {name}: {np.round(accs, 3)}, mean {np.mean(accs):.3f}")

# %%
gains = np.array(digits["pretrained on 0-4"]) - np.array(digits["from scratch"])
dense_cost = np.array(digits["pretrained on 0-4"]) - np.array(digits["pretrained on 0-4, dense layer included"])
print("reused convolutions minus from scratch, per seed:", np.round(gains, 3))
print("convolutions only minus dense layer included, per seed:", np.round(dense_cost, 3))
assert gains.min() > 0.15 and dense_cost.min() > 0.1 and dense_cost.mean() > gains.mean() / 2   # most of the gain
ledger.record("train a model on plentiful data to reuse it where data is scarce", section="5",
              value=gains.mean(), spread=gains.std(), verdict="shown",
              figure=f"digits 5-9 with {SHOTS_DIGITS} labelled images per class, test accuracy of the frozen "
                     f"convolutions pretrained on digits 0-4 plus a new head minus the same CNN from scratch, "
                     f"mean (std) over {len(SEEDS)} seeds");
ledger.record("reuse the convolutions, not the dense layer trained for the source's classes", section="5",
              value=dense_cost.mean(), spread=dense_cost.std(), verdict="shown",
              figure=f"digits 5-9 with {SHOTS_DIGITS} labelled images per class, test accuracy with the convolutions "
                     f"reused minus with the dense layer reused too, mean (std) over {len(SEEDS)} seeds");

# %% [markdown]
# The features learned on digits 0-4 (strokes, loops, corners) serve digits 5-9, which the network never
# saw, on every seed and by a wide margin. Reusing the dense layer as well gives most of that gain back:
# the deeper a layer, the more it is about the classes it was trained on. That is the whole idea of
# transfer learning, at a size you can train in seconds.
#
# ## Exercises
#
# ### Exercise 1 (about 5 min)
# Train a logistic regression on the pretrained features of the 10 photos per class in `chosen` (seed 1:
# their features are `f_pool[chosen]`, their labels `y_pool[chosen]`), and store it in `clf`. The check
# scores it on the test features, which it must not have seen, and compares it with the same classifier
# fitted on exactly those photos.

# %%
chosen = data.few_shot(y_pool, 10, seed=1)  # the photos to fit on
clf = None  # your classifier here

# %%
print(what_is_tl.check_feature_classifier(clf, f_test, y_test, features_train=f_pool[chosen], y_train=y_pool[chosen]))

# %% [markdown]
# ### Exercise 2 (about 10 min)
# Build `digits_model`: the *pretrained* convolutions `conv_part` of section 5, frozen, followed by a new
# dense layer with 5 outputs (not the whole `source_fe`: section 5 measured that reusing its last dense
# layer, trained to separate digits 0-4 only, loses most of the gain); train it on the 20 images per class of
# digits 5-9 in `train_digits`. The check inspects the model and scores it on the other images of digits 5-9.

# %%
train_digits = data.few_shot(y_high, 20, seed=0)  # train on x_high[train_digits], y_high[train_digits]
digits_model = None  # your model here

# %%
print(what_is_tl.check_reused_extractor(digits_model, conv_part, x_high, y_high, train=train_digits, source=source_fe))

# %% [markdown] tags=["solution"]
# ## Solutions

# %% tags=["solution"]
clf = LogisticRegression(max_iter=2000).fit(f_pool[chosen], y_pool[chosen])
assert what_is_tl.check_feature_classifier(clf, f_test, y_test, features_train=f_pool[chosen], y_train=y_pool[chosen],
                                           show=True)

# %% tags=["solution"]
digits_model = keras.Sequential([conv_part, keras.layers.Dense(5, dtype="float32")])  # conv_part is frozen
digits_model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                     metrics=["accuracy"], jit_compile=False)
digits_model.fit(x_high[train_digits], y_high[train_digits], epochs=40, batch_size=16, verbose=0)
assert what_is_tl.check_reused_extractor(digits_model, conv_part, x_high, y_high, train=train_digits, source=source_fe,
                                         show=True)

# %% [markdown]
# ## Quiz
#
# Six questions on this lesson. Choose, tick or type an answer and press **Check**: the
# feedback says why it is right or wrong. Where widgets cannot be drawn (a terminal, a static page),
# the questions print as text, and `quiz.show("01_what_is_transfer_learning", answers=True)` prints the answers.

# %%
from tlcourse import quiz

quiz.show("01_what_is_transfer_learning")

# %% [markdown]
# ## Key points
# - A pretrained base has learned generic features: edges and colours first, then parts and objects.
#   Photos close in its embedding space tend to share a class, far more often than photos close in pixels.
# - Less labelled data (shown): with 5 photos per class, a linear classifier on pretrained features beats a
#   CNN trained from scratch on the same photos, on every seed, also when both see the same small photos;
#   the scratch CNN needs several times more photos to catch up. The gain is modest with this small base
#   (about 60% ImageNet top-1); better ImageNet models transfer better (Kornblith et al., 2019).
# - Better results (mixed in the quick profile): on the whole pool the pretrained features at the base's
#   size win beyond the spread, but at the scratch CNN's size the gain is inside it. Part of the gap is
#   resolution; a scratch CNN trained longer, or at the base's size, was not measured.
# - Less training time (mixed in the quick profile): the head on cached features reached the scratch model's
#   best sooner, but computing the features once took longer than the whole scratch run. Features pay off
#   when they are reused, as every experiment above reuses them.
# - No suitable base? Pretrain one on a related task with plenty of labels and reuse its convolutions
#   (shown on digits: a large gain on every seed); reusing its last dense layer too loses most of it.
#
# **Further reading**
# - Yosinski, J., Clune, J., Bengio, Y. and Lipson, H. (2014). How transferable are features in deep neural networks? *NeurIPS*.
# - Kornblith, S., Shlens, J. and Le, Q. V. (2019). Do better ImageNet models transfer better? *CVPR*.
# - Zeiler, M. D. and Fergus, R. (2014). Visualizing and understanding convolutional networks. *ECCV*.
# - Sandler, M., Howard, A., Zhu, M., Zhmoginov, A. and Chen, L.-C. (2018). MobileNetV2: Inverted residuals and linear bottlenecks. *CVPR*.
