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
# - how long each approach takes to train, the pretrained features' extraction counted;
# - to read a verdict: an effect, its 95% interval over seeds, and the condition it was measured in;
# - how to make your own base model: pretrain on a task with plenty of data, reuse it where data is scarce.
#
# **Prerequisites:** 00_setup_check; a first Keras model (`compile`, `fit`); logistic regression.
#
# **Terms:** [the course glossary](GLOSSARY.md).
#
# **Estimated time:** (generated from tlcourse/minutes.json)

# %%
import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from sklearn.linear_model import LogisticRegression

import tlcourse
from tlcourse import claims, data, features, interactive, models, plots, training
from tlcourse.scratch import digits_cnn, small_cnn
from tlcourse_exercises import what_is_tl

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
VAL_PER_CLASS = 30                      # validation photos: when to stop training the scratch CNN
SHOTS = [5, 20, None] if PROFILE.name == "quick" else [1, 5, 10, 20, 50, None]  # None = whole pool
SEEDS = list(range(PROFILE.seeds))
MAX_EPOCHS, PATIENCE, MIN_EPOCH_STEPS = 25, 3, 16   # the scratch CNN trains until validation stops improving
print(PROFILE.name, IMAGE_SIZE, MAX_PER_CLASS, SEEDS)

# %% [markdown]
# ## 1. The data: a test set kept aside, and a pool to draw labelled photos from
#
# One seeded split: `TEST_PER_CLASS` photos of each class are the test set, never used for training or
# choosing anything. The training pool holds `MAX_PER_CLASS` photos per class; the experiments below
# draw k of them per class. `VAL_PER_CLASS` photos per class more are a validation set, used only to
# decide when the CNN trained from scratch stops improving.

# %%
flowers = data.scan_images(data.dataset_path("flowers"))
CLASSES = flowers.class_names
test_idx = data.few_shot(flowers.labels, TEST_PER_CLASS, seed=0)
rest = np.setdiff1d(np.arange(len(flowers)), test_idx)
pool_idx = data.few_shot(flowers.labels, MAX_PER_CLASS, seed=0, indices=rest)
val_idx = data.few_shot(flowers.labels, VAL_PER_CLASS, seed=0, indices=np.setdiff1d(rest, pool_idx))
x_all = data.load_images([flowers.files[i] for i in np.concatenate([pool_idx, test_idx, val_idx])],
                         image_size=IMAGE_SIZE)
x_pool, x_test, x_val = np.split(x_all, [len(pool_idx), len(pool_idx) + len(test_idx)])
y_pool, y_test, y_val = flowers.labels[pool_idx], flowers.labels[test_idx], flowers.labels[val_idx]
print("pool", x_pool.shape, np.bincount(y_pool), "test", x_test.shape, "validation", x_val.shape)

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
gap = (y_pool[nn_embed] == y_test).astype(float) - (y_pool[nn_pixel] == y_test)   # one split: resample test photos
se = np.random.default_rng(0).choice(gap, size=(1000, gap.size)).mean(axis=1).std()
print(claims.conclusion(claims.compare([gap.mean()], se_floor=se, over="a paired bootstrap of the test photos"),
                        "the embedding", "raw pixels", "for the nearest neighbour's class"))

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
# Two learners see the same k photos per class (same seed, same photos), at the same resolution:
# - a small CNN from scratch (three conv blocks with BatchNormalization, `SCRATCH_SIZE` px), trained until
#   its validation accuracy stops improving (`PATIENCE` epochs without a better one, `MAX_EPOCHS` at most;
#   the weights of its best epoch are kept). Its BatchNormalization momentum is 0.9: with Keras's default
#   0.99 the moving statistics lag so far behind after a few dozen steps that the model predicts one class;
# - a logistic regression on the features of the pretrained base fed the same `SCRATCH_SIZE`-px photos.
#
# The scratch CNN gets small photos because a step at the base's `IMAGE_SIZE` px costs about
# (`IMAGE_SIZE` / `SCRATCH_SIZE`)² times more, beyond this lesson's budget; the pretrained features get the
# same photos, so that resolution cannot decide the comparison. A third curve, for information, is the base
# at its own `IMAGE_SIZE` px. Only the scratch CNN uses the validation photos (to stop): with 5 labelled
# photos per class a real project would not have 150 more to validate on, so this set-up favours scratch.

# %%
x_pool_small, x_test_small, x_val_small = (tf.image.resize(x, (SCRATCH_SIZE, SCRATCH_SIZE)).numpy()
                                           for x in (x_pool, x_test, x_val))
base_small = models.load_base(BASE_MODEL, alpha=BASE_ALPHA, input_size=SCRATCH_SIZE)
extractor_small = keras.Sequential([keras.Input((SCRATCH_SIZE, SCRATCH_SIZE, 3)), base_small,
                                    keras.layers.GlobalAveragePooling2D()], name="extractor_small")
f_test_small = features.extract_features(extractor_small, preprocess(x_test_small.copy()))   # traces the model
start = time.perf_counter()
f_pool_small = features.extract_features(extractor_small, preprocess(x_pool_small.copy()))
seconds_per_photo = (time.perf_counter() - start) / len(x_pool_small)   # what the features cost, counted in §4
print(f"{SCRATCH_SIZE}-px photos {x_pool_small.shape[1:]}, their pretrained features {f_pool_small.shape[1:]}, "
      f"{seconds_per_photo * 1000:.1f} ms a photo")

# %%
scratch = small_cnn(len(CLASSES), (SCRATCH_SIZE, SCRATCH_SIZE, 3), filters=(16, 32, 64))
scratch.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=["accuracy"], jit_compile=False)


def train_scratch(idx, seed):
    """Train the scratch CNN on pool photos `idx` until validation stops improving; seconds to its best epoch."""
    training.fresh_start(scratch, seed)   # new random weights, optimizer reset: no recompile, no new trace
    rng = np.random.default_rng(seed)     # few photos: repeat them so that an epoch is MIN_EPOCH_STEPS batches
    order = np.concatenate([rng.permutation(idx) for _ in range(int(np.ceil(MIN_EPOCH_STEPS * 32 / len(idx))))])
    timer = training.EpochTimer()
    stop = keras.callbacks.EarlyStopping("val_accuracy", patience=PATIENCE, restore_best_weights=True)
    history = scratch.fit(x_pool_small[order], y_pool[order], batch_size=32, epochs=MAX_EPOCHS, verbose=0,
                          validation_data=(x_val_small, y_val), callbacks=[timer, stop])
    return timer.times[int(np.argmax(history.history["val_accuracy"]))]

# %%
fitted = {}   # (features, photos) -> (test accuracy, seconds): the whole pool is the same photos every seed


def probe_accuracy(idx, f_train, f_eval):
    key = (id(f_train), idx.tobytes())
    if key not in fitted:
        start = time.perf_counter()
        with features.one_blas_thread():   # on a busy CPU, two threads fighting for the cores slow the fit down
            clf = LogisticRegression(max_iter=300, C=0.1).fit(f_train[idx], y_pool[idx])
        fitted[key] = clf.score(f_eval, y_test), time.perf_counter() - start
    return fitted[key]


results = {"scratch": {}, "pretrained": {}, "pretrained, 160 px": {}}
seconds = {"scratch": {}, "pretrained": {}}   # training time; the pretrained one counts its features' extraction
labels_k = [str(k) if k else f"all ({MAX_PER_CLASS})" for k in SHOTS]

# %%
start = time.perf_counter()
for k in SHOTS:
    for seed in SEEDS:   # k=None: the same photos every seed, but the scratch CNN starts from other weights
        idx = data.few_shot(y_pool, k, seed=seed)
        seconds["scratch"].setdefault(k, []).append(train_scratch(idx, seed))
        results["scratch"].setdefault(k, []).append(scratch.evaluate(x_test_small, y_test, verbose=0)[1])
        acc, fit_seconds = probe_accuracy(idx, f_pool_small, f_test_small)
        results["pretrained"].setdefault(k, []).append(acc)
        seconds["pretrained"].setdefault(k, []).append(len(idx) * seconds_per_photo + fit_seconds)
        results["pretrained, 160 px"].setdefault(k, []).append(probe_accuracy(idx, f_pool, f_test)[0])
    print(f"k={k}: " + ", ".join(f"{name} {np.mean(r[k]):.3f} +- {np.std(r[k]):.3f}" for name, r in results.items()))
print(f"sweep took {time.perf_counter() - start:.0f} s")

# %% [markdown]
# The plot below is interactive in JupyterLab: move the slider along the labelled photos per class and
# read the three accuracies at that point. Try the smallest k: how far apart are the learners with
# five photos per class, and does the gap close or widen as photos are added?

# %%
# extra code - the curves (mean and spread over seeds), with the slider's k marked and its accuracies printed
sizes = {"scratch": SCRATCH_SIZE, "pretrained": SCRATCH_SIZE, "pretrained, 160 px": IMAGE_SIZE}


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


interactive.explore(draw_sweep, {"position": interactive.Slider(0, len(SHOTS) - 1, 1, default=0,
                                                                description="labelled photos per class (position)")},
                    title="accuracy against labelled photos per class")

# %% [markdown]
# The verdicts: `claims.compare` takes the two learners' accuracies seed by seed (same photos), and gives the
# mean gain with its 95% interval over the seeds; the sentence printed follows from it, on this run. Where
# transfer should save labels (5 per class), and where it should matter less (the whole pool):

# %%
def gain(name, k):
    return claims.compare(results[name][k], results["scratch"][k])


few, plenty = gain("pretrained", 5), gain("pretrained", None)
for k in SHOTS:
    print(claims.conclusion(gain("pretrained", k), "the pretrained features", "the scratch CNN",
                            f"with {labels_k[SHOTS.index(k)]} labelled photos per class, both at {SCRATCH_SIZE} px"))
print(claims.conclusion(claims.compare(np.subtract(results["pretrained"][5], results["scratch"][5]),
                                       np.subtract(results["pretrained"][None], results["scratch"][None])),
                        "the gain with 5 per class", "the gain with the whole pool"))
print(claims.conclusion(gain("pretrained, 160 px", 5), "the base at its own 160 px", "the scratch CNN at "
                        f"{SCRATCH_SIZE} px", "for information, with 5 labelled photos per class"))

# %%
def scratch_matches(name):   # the smallest k at which the scratch CNN reaches `name`'s accuracy with 5 per class
    matched = [label for k, label in zip(SHOTS, labels_k) if np.mean(results["scratch"][k]) >= np.mean(results[name][5])]
    return matched[0] if matched else f"none up to {labels_k[-1]}"


print(f"the scratch CNN matches the pretrained features with 5 photos per class "
      f"({np.mean(results['pretrained'][5]):.3f}) at k = {scratch_matches('pretrained')}")

# %% [markdown]
# Given the whole pool, is the pretrained model *better*, not only cheaper in labels? Same photos, same
# resolution, the scratch CNN trained until it stops improving. The control: the same network with random
# weights instead of ImageNet's, as a feature extractor the same way (if it did as well, the pretraining would
# not be what helps).

# %%
keras.utils.set_random_seed(0)
random_small = keras.Sequential([keras.Input((SCRATCH_SIZE, SCRATCH_SIZE, 3)), models.load_base(
    BASE_MODEL, alpha=BASE_ALPHA, input_size=SCRATCH_SIZE, weights=None),
    keras.layers.GlobalAveragePooling2D()], name="random_weights")
f_pool_random, f_test_random = (features.extract_features(random_small, preprocess(x.copy()))
                                for x in (x_pool_small, x_test_small))
random_accuracy = probe_accuracy(data.few_shot(y_pool, None), f_pool_random, f_test_random)[0]   # one draw
placebo = claims.compare([random_accuracy] * len(SEEDS), results["scratch"][None])

# %%
print(claims.conclusion(plenty, "the pretrained features", "the scratch CNN", f"on the whole pool at {SCRATCH_SIZE} px"))
print(claims.conclusion(placebo, "random weights' features", "the scratch CNN", "on the whole pool"))

# %% [markdown]
# How big the gain is depends on the base. The offline mirror only has the smallest ImageNet MobileNets
# (MobileNetV2 0.35 reaches about 60% ImageNet top-1 accuracy at 224 px, against 71% for the full-width model,
# in Sandler et al. 2018's published checkpoints; at the smaller sizes used here it scores lower), and
# better ImageNet models give better features for other tasks (Kornblith,
# Shlens and Le, 2019, Figure 1). At `SCRATCH_SIZE` px the base sees a 2x2 map at its last layer, far below
# what it was trained on; the third curve shows what it gives at its own size. With enough data and training
# a model from scratch can catch up with a pretrained one (He, Girshick and Dollár, 2019): compare the
# verdicts at 5 per class and on the whole pool.
#
# ## 4. Less time: seconds of training, feature extraction counted
#
# The sweep above timed both learners: the scratch CNN until its best epoch (the epochs it needed to find out
# that it had stopped improving are not counted, which favours it), the pretrained features for the
# extraction of the photos it was fitted on plus the logistic regression. Where there is much to learn from
# (the whole pool), and where there is little (5 per class):

# %%
def time_saved(k):   # seconds of the scratch CNN minus seconds of the pretrained features, seed by seed
    return claims.compare(np.negative(seconds["pretrained"][k]), np.negative(seconds["scratch"][k]))


for k in (None, 5):
    label = labels_k[SHOTS.index(k)]
    print(f"{label} per class: scratch {np.mean(seconds['scratch'][k]):.1f} s to its best epoch "
          f"({np.mean(results['scratch'][k]):.3f}), pretrained {np.mean(seconds['pretrained'][k]):.2f} s "
          f"({np.mean(results['pretrained'][k]):.3f})")
    print("  " + claims.conclusion(time_saved(k), "the pretrained features", "the scratch CNN",
                                   f"in seconds of training (feature extraction counted), {label} per class"))

# %% [markdown]
# Read the seconds with the accuracies beside them: a learner that is faster but worse has not saved
# anything. Features are computed once and cached (02_feature_extraction), so every further experiment on the
# same photos pays only the head. What is not counted is the base's own training on ImageNet: transfer
# saves time because someone else paid it.
#
# (The scratch CNN stops on a validation split; the accuracies above are on the test set, touched only to
# report them.)
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
def digits_run(model, seed, shots=SHOTS_DIGITS):
    training.fresh_start(model, seed)       # frozen conv_part keeps its pretrained weights
    train = data.few_shot(y_high, shots, seed=seed)
    test = np.setdiff1d(np.arange(len(y_high)), train)
    epochs = max(3, 750 // len(train))      # about the same number of steps, whatever the number of images
    model.fit(x_high[train], y_high[train], epochs=epochs, batch_size=25, verbose=0)
    return model.evaluate(x_high[test], y_high[test], verbose=0)[1]


digits = {name: [digits_run(model, s) for s in SEEDS] for name, model in digit_models.items()}
for name, accs in digits.items():
    print(f"digits 5-9, {SHOTS_DIGITS} per class, {name}: {np.round(accs, 3)}, mean {np.mean(accs):.3f}")

# %% [markdown]
# Reuse should pay where the target's labels are scarce. Where they are plentiful (`PLENTY_DIGITS` images per
# class, a few epochs), the CNN from scratch can learn the same strokes itself: the same two models, the same
# seeds.

# %%
PLENTY_DIGITS = 200
digits_plenty = {name: [digits_run(digit_models[name], s, shots=PLENTY_DIGITS) for s in SEEDS]
                 for name in ("from scratch", "pretrained on 0-4")}
reuse = {n: claims.compare(d["pretrained on 0-4"], d["from scratch"]) for n, d in
         ((SHOTS_DIGITS, digits), (PLENTY_DIGITS, digits_plenty))}
dense_cost = claims.compare(digits["pretrained on 0-4"], digits["pretrained on 0-4, dense layer included"])
for n, c in reuse.items():
    print(claims.conclusion(c, "the reused convolutions", "the CNN from scratch", f"with {n} images per class"))
print(claims.conclusion(dense_cost, "the convolutions alone", "the dense layer reused as well",
                        f"with {SHOTS_DIGITS} images per class"))

# %% [markdown]
# Read the verdicts above. In the course's runs the features learned on digits 0-4 (strokes, loops,
# corners) served digits 5-9, which the network never saw, by a wide margin with 5 images per class, and
# reusing the dense layer as well gave most of that gain back: the deeper a layer, the more it is about the
# classes it was trained on (02_feature_extraction measures this layer by layer). With plenty of labels the
# CNN from scratch learns those strokes itself, and reuse has less or nothing left to give. That is the
# whole idea of transfer learning, at a size you can train in seconds.
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
# dense layer with 5 outputs (not the whole `source_fe`: section 5 measures what reusing its last dense
# layer, trained to separate digits 0-4 only, costs); train it on the 20 images per class of
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
from tlcourse_exercises import quiz

quiz.show("01_what_is_transfer_learning")

# %% [markdown]
# ## Key points
# - A pretrained base has learned generic features: edges and colours first, then parts and objects.
#   Photos close in its embedding space tend to share a class more often than photos close in pixels
#   (section 2 prints by how much on this run).
# - A verdict is a paired comparison over seeds: the mean effect, its 95% interval, and the condition it was
#   measured in. Each claim below is measured where it should hold and where it should matter less; the
#   printed sentences follow your own run's numbers.
# - Less labelled data: with 5 photos per class, both at the same small resolution, compare the pretrained
#   features with a CNN trained from scratch on the same photos until it stops improving; then with the
#   whole pool, where the gain should shrink. The gain is modest with this small base (about 60% ImageNet
#   top-1 at 224 px, less at the small sizes used here); better ImageNet models transfer better (Kornblith et al., 2019).
# - Better results: on the whole pool at equal resolution, a scratch CNN trained to its best can come close
#   (He et al., 2019, found that with enough data and training it catches up); the same network with random
#   weights shows what the pretraining itself contributes.
# - Less time: count the feature extraction, and read the accuracy beside the seconds. The base's own
#   training on ImageNet is the time someone else paid.
# - No suitable base? Pretrain one on a related task with plenty of labels and reuse its convolutions:
#   on digits it pays with 5 images per class, much less with 200; reusing its last dense layer too costs
#   accuracy, because that layer is specific to the source's classes.
#
# **Further reading**
# - Yosinski, J., Clune, J., Bengio, Y. and Lipson, H. (2014). How transferable are features in deep neural networks? *NeurIPS*.
# - Kornblith, S., Shlens, J. and Le, Q. V. (2019). Do better ImageNet models transfer better? *CVPR*.
# - He, K., Girshick, R. and Dollár, P. (2019). Rethinking ImageNet pre-training. *ICCV*.
# - Zeiler, M. D. and Fergus, R. (2014). Visualizing and understanding convolutional networks. *ECCV*.
