# %% [markdown]
# # 02 Feature extraction: a frozen base, a new head
#
# The simplest way to reuse a pretrained network: keep its convolutional base as it is (frozen), and
# train only a small new classifier (the *head*) on top. This notebook does it the Keras way, proves
# the base did not move, makes it fast by computing the features once, asks which layer's features to
# take, looks at the features, and repeats the recipe where data is really scarce.
#
# **You will learn**
# - to remove the top, freeze the base, add a head (pooling, dropout, dense) and train it;
# - to cache features and measure the speed-up, with the same accuracy;
# - which depth of the base gives the most useful features for a new task;
# - to inspect features and errors: 2-D projections, a confusion matrix, the most confident mistakes.
#
# **Prerequisites:** 01_what_is_transfer_learning.
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
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import TSNE

from tlcourse import data, features, models, plots, training
from tlcourse.exercises import feature_extraction

report = tlcourse.setup(seed=42)

# %%
PROFILE = report.profile
IMAGE_SIZE = PROFILE.image_size
BASE_MODEL, BASE_ALPHA = PROFILE.base_model, PROFILE.base_alpha
TRAIN_PER_CLASS = 60 if PROFILE.name == "quick" else None   # None = every remaining photo
TEST_PER_CLASS = 60 if PROFILE.name == "quick" else 150
EPOCHS = PROFILE.epochs
BATCH_SIZE = PROFILE.batch_size
print(PROFILE.name, IMAGE_SIZE, TRAIN_PER_CLASS, TEST_PER_CLASS, EPOCHS)

# %% [markdown]
# ## 1. Data
#
# A seeded split of the flower photos: a test set kept aside, and `TRAIN_PER_CLASS` training photos per
# class (the quick profile keeps the lesson to two minutes on a CPU).

# %%
flowers = data.scan_images(data.dataset_path("flowers"))
CLASSES = flowers.class_names
test_idx = data.few_shot(flowers.labels, TEST_PER_CLASS, seed=0)
train_idx = data.few_shot(flowers.labels, TRAIN_PER_CLASS, seed=0,
                          indices=np.setdiff1d(np.arange(len(flowers)), test_idx))
x_train = data.load_images([flowers.files[i] for i in train_idx], image_size=IMAGE_SIZE).astype("float32")
x_test = data.load_images([flowers.files[i] for i in test_idx], image_size=IMAGE_SIZE).astype("float32")
y_train, y_test = flowers.labels[train_idx], flowers.labels[test_idx]
print("train", x_train.shape, "test", x_test.shape)

# %% [markdown]
# ## 2. Remove the top, freeze the base, add a head
#
# `include_top=False` removes ImageNet's classifier. `base.trainable = False` freezes every weight of
# the base, and calling it with `training=False` keeps its BatchNormalization layers in inference mode
# (they use ImageNet's statistics, not the batch's). The head: global average pooling, dropout, dense.

# %%
base = models.load_base(BASE_MODEL, alpha=BASE_ALPHA, input_size=IMAGE_SIZE)
base.trainable = False
inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3))
x = keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs)      # MobileNetV2's preprocessing: [0, 255] -> [-1, 1]
x = base(x, training=False)
x = keras.layers.GlobalAveragePooling2D()(x)
x = keras.layers.Dropout(0.2)(x)
outputs = keras.layers.Dense(len(CLASSES), dtype="float32")(x)
model = keras.Model(inputs, outputs)
print(models.trainable_summary(model))

# %%
def compile_head(m):
    m.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"], jit_compile=False)
    return m


before = [w.copy() for w in base.get_weights()]
timer_e2e = training.EpochTimer()
keras.utils.set_random_seed(0)
compile_head(model).fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=0,
                        callbacks=[timer_e2e.callback()])
acc_e2e = model.evaluate(x_test, y_test, verbose=0)[1]
print(f"frozen base + head: test accuracy {acc_e2e:.3f}, {timer_e2e.times[-1]:.1f} s for {EPOCHS} epochs")

# %% [markdown]
# The check every feature-extraction run deserves: not one weight of the base moved (BatchNormalization's
# moving statistics included, thanks to `training=False`).

# %%
assert all(np.array_equal(a, b) for a, b in zip(before, base.get_weights())), "the base changed"
print(f"all {len(before)} weight arrays of the base unchanged")

# %% [markdown]
# ## 3. Compute the features once, train the head on the cache
#
# The frozen base computes the same features every epoch. Compute them once, keep them (in memory and
# in `outputs/features` on disk, keyed by a hash of the model's weights and the images, so a stale cache
# is never used), and train the same head on them.

# %%
extractor = keras.Model(inputs, model.layers[-3].output, name="extractor")   # up to the pooling
start = time.perf_counter()
f_train = features.cached_features(extractor, x_train, name="flowers_train_02")
f_test = features.cached_features(extractor, x_test, name="flowers_test_02")
extract_seconds = time.perf_counter() - start
head = keras.Sequential([keras.Input(f_train.shape[1:]), keras.layers.Dropout(0.2),
                         keras.layers.Dense(len(CLASSES), dtype="float32")])
timer_head = training.EpochTimer()
keras.utils.set_random_seed(0)
compile_head(head).fit(f_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=0,
                       callbacks=[timer_head.callback()])
acc_head = head.evaluate(f_test, y_test, verbose=0)[1]

# %%
per_epoch_e2e = np.diff([0.0] + timer_e2e.times)[1:].mean()     # leave out the first epoch (tracing)
per_epoch_head = np.diff([0.0] + timer_head.times)[1:].mean()
print(f"features: {extract_seconds:.1f} s, once")
print(f"per epoch: frozen base every epoch {per_epoch_e2e:.3f} s, cached features {per_epoch_head:.4f} s "
      f"-> {per_epoch_e2e / per_epoch_head:.0f}x faster")
print(f"test accuracy: end to end {acc_e2e:.3f}, on cached features {acc_head:.3f}")
assert per_epoch_head * 5 < per_epoch_e2e and abs(acc_e2e - acc_head) < 0.06

# %% [markdown]
# The same head, the same data, the same accuracy (up to the randomness of dropout and initial weights);
# each epoch costs a small fraction. The price: no data augmentation (each photo has one cached feature
# vector) and no fine-tuning of the base. Both come in 03_fine_tuning.
#
# ## 4. Which layer to take features from?
#
# Early layers detect generic things (edges, colours); late ones, things specific to ImageNet's
# classes. A *linear probe* measures how useful each depth is for flowers: average-pool the layer's
# output and fit a logistic regression. One forward pass gives all depths.

# %%
PROBE_LAYERS = ["block_1_expand_relu", "block_3_expand_relu", "block_6_expand_relu",
                "block_10_expand_relu", "block_13_expand_relu", "out_relu"]
pooled = [keras.layers.GlobalAveragePooling2D()(base.get_layer(n).output) for n in PROBE_LAYERS]
multi = keras.Model(base.input, pooled)
prep = keras.layers.Rescaling(1 / 127.5, offset=-1)
outs_train = multi.predict(prep(x_train), batch_size=64, verbose=0)
outs_test = multi.predict(prep(x_test), batch_size=64, verbose=0)
probe = {}
for name, ftr, fte in zip(PROBE_LAYERS, outs_train, outs_test):
    clf = LogisticRegression(max_iter=500, C=0.1).fit(ftr, y_train)
    probe[name] = clf.score(fte, y_test)
    print(f"{name:22s} {ftr.shape[1]:5d} features  linear probe {probe[name]:.3f}")

# %%
# extra code - the probe accuracy against depth
fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(range(len(probe)), list(probe.values()), marker="o")
ax.set_xticks(range(len(probe)), [n.replace("_expand_relu", "") for n in probe], rotation=20)
ax.set_ylabel("linear probe accuracy"); ax.set_title("flowers: features from several depths");

# %%
assert max(probe, key=probe.get) != PROBE_LAYERS[0]
assert max(probe.values()) > probe[PROBE_LAYERS[0]] + 0.1

# %% [markdown]
# The first layers are too generic. On flowers, which resemble ImageNet photos, the deep layers win; on
# data far from ImageNet (X-rays, satellite images), a middle layer can beat the last one, which is why
# this is worth measuring rather than assuming.
#
# ## 5. A look at the features and at the mistakes
#
# Project the 1,280-d features to 2-D, colour by class: the classes the head confuses overlap.

# %%
# extra code - PCA and t-SNE of the test features
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, (name, proj) in zip(axes, [("PCA", PCA(2, random_state=0)),
                                   ("t-SNE", TSNE(2, perplexity=30, random_state=0, init="pca"))]):
    xy = proj.fit_transform(f_test)
    for c, cname in enumerate(CLASSES):
        ax.scatter(*xy[y_test == c].T, s=8, label=cname)
    ax.set_title(name); ax.set_xticks([]); ax.set_yticks([])
axes[1].legend(markerscale=2, fontsize=8);

# %%
logits = head.predict(f_test, verbose=0)
pred = logits.argmax(1)
plots.confusion_matrix(y_test, pred, CLASSES);

# %% [markdown]
# The most confident mistakes are where to look first: a wrong label in the data, two flowers in one
# photo, or a real weakness of the model.

# %%
prob = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
wrong = np.flatnonzero(pred != y_test)
worst = wrong[np.argsort(-prob[wrong, pred[wrong]])][:8]
print(f"{len(wrong)} mistakes out of {len(y_test)}; the most confident at {prob[worst[0], pred[worst[0]]]:.2f}")
plots.image_grid(x_test[worst].astype("uint8"), y_test[worst], class_names=CLASSES, predictions=pred[worst],
                 ncols=4, title="most confident mistakes (true / predicted)");

# %% [markdown]
# ## 6. Where data is really scarce: ants and bees, 244 training photos
#
# The whole recipe on the PyTorch tutorial's ants/bees set (untidy: one file is a GIF placeholder, which
# the loader skips and reports). Against the same network with random weights, to see what ImageNet
# contributes.

# %%
ab = {split: data.scan_images(data.dataset_path("hymenoptera") / split) for split in ("train", "val")}
ab_x = {s: data.load_images(f.files, image_size=IMAGE_SIZE).astype("float32") for s, f in ab.items()}
results_ab = {}
for weights in ("imagenet", None):
    keras.utils.set_random_seed(0)
    b = models.load_base(BASE_MODEL, alpha=BASE_ALPHA, input_size=IMAGE_SIZE, weights=weights, pooling="avg",
                         verbose=False)
    ext = keras.Sequential([keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3)), keras.layers.Rescaling(1 / 127.5, offset=-1), b])
    f = {s: features.extract_features(ext, x) for s, x in ab_x.items()}
    clf = LogisticRegression(max_iter=1000, C=0.1).fit(f["train"], ab["train"].labels)
    results_ab[weights or "random"] = clf.score(f["val"], ab["val"].labels)
print({k: round(v, 3) for k, v in results_ab.items()}, "train", ab["train"].counts(), "val", ab["val"].counts())
assert results_ab["imagenet"] > results_ab["random"] + 0.2

# %% [markdown]
# With a couple of hundred photos, training a network from nothing is hopeless; with pretrained
# features a linear classifier gets most of them right.
#
# ## Exercises
#
# ### Exercise 1 (about 5 min)
# Build `fe_model` for the flowers from a *new* frozen base `fe_base` (given below): input, preprocessing,
# the base in inference mode, global average pooling, dropout, a dense layer with one output per class.

# %%
fe_base = models.load_base(BASE_MODEL, alpha=BASE_ALPHA, input_size=IMAGE_SIZE, verbose=False)
fe_model = None  # your model here

# %%
print(feature_extraction.check_feature_extractor_model(fe_model, fe_base, len(CLASSES)))

# %% [markdown]
# ### Exercise 2 (about 3 min)
# From the probe results `probe` of section 4, which layer would you take features from? Put its name
# in `best_layer`.

# %%
best_layer = None  # a layer name

# %%
print(feature_extraction.check_best_layer(best_layer, probe))

# %% [markdown] tags=["solution"]
# ## Solutions

# %% tags=["solution"]
fe_base.trainable = False
inp = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3))
h = fe_base(keras.layers.Rescaling(1 / 127.5, offset=-1)(inp), training=False)
h = keras.layers.Dropout(0.2)(keras.layers.GlobalAveragePooling2D()(h))
fe_model = keras.Model(inp, keras.layers.Dense(len(CLASSES), dtype="float32")(h))
assert feature_extraction.check_feature_extractor_model(fe_model, fe_base, len(CLASSES), show=True)

# %% tags=["solution"]
best_layer = max(probe, key=probe.get)
assert feature_extraction.check_best_layer(best_layer, probe, show=True)

# %% [markdown]
# ## Quiz
#
# Six questions on this lesson. Choose, tick or type an answer and press **Check**: the
# feedback says why it is right or wrong. Where widgets cannot be drawn (a terminal, a static page),
# the questions print as text, and `quiz.show("02_feature_extraction", answers=True)` prints the answers.

# %%
from tlcourse import quiz

quiz.show("02_feature_extraction")

# %% [markdown]
# ## Key points
# - Feature extraction: `include_top=False`, `base.trainable = False`, `base(x, training=False)`, then
#   pooling, dropout and a dense layer. Check that the base's weights did not move.
# - A frozen base gives the same features every epoch: compute them once, cache them, and train the head
#   many times faster for the same accuracy.
# - Which layer to take features from is a measurement: a linear probe per depth.
# - Look at the features (PCA, t-SNE), the confusion matrix and the most confident mistakes before
#   trusting an accuracy.
# - The less data, the more a pretrained base is worth: on 244 ants/bees photos, compare the ImageNet
#   features with random ones above.
#
# **Further reading**
# - Donahue, J. et al. (2014). DeCAF: A deep convolutional activation feature for generic visual recognition. *ICML*.
# - Sharif Razavian, A., Azizpour, H., Sullivan, J. and Carlsson, S. (2014). CNN features off-the-shelf: an astounding baseline for recognition. *CVPR Workshops*.
# - Alain, G. and Bengio, Y. (2017). Understanding intermediate layers using linear classifier probes. *ICLR Workshop*.
# - Chollet, F. (2020). Transfer learning & fine-tuning. Keras developer guides, keras.io.
