# %% [markdown]
# # 02 Feature extraction: a frozen base, a new head
#
# The simplest way to reuse a pretrained network: keep its convolutional base as it is (frozen), and
# train only a small new classifier (the *head*) on top. This notebook does it the Keras way, checks
# what `trainable` and `training` do, makes it fast by computing the features once, asks which layer's
# features to take, looks at the features, and repeats the recipe where data is really scarce.
#
# **You will learn**
# - to remove the top, freeze the base, add a head (pooling, dropout, dense) and train it;
# - what `trainable` (may `fit` change the weights?) and `training` (inference or training behaviour) each do;
# - to cache features and measure the speed-up, with the same accuracy;
# - which depth of the base gives the most useful features for a new task (flowers and digits differ);
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
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tlcourse import claims, data, features, interactive, models, plots, training
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
SEEDS = list(range(PROFILE.seeds))
ledger = claims.Ledger("02_feature_extraction")   # the lesson's claims and what it measured of them
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
# the base, and calling it with `training=False` asks its layers to behave as at inference (the
# cells below check what that does and does not do). The head: global average pooling, dropout, dense.

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


timer_e2e = training.EpochTimer()
keras.utils.set_random_seed(0)
compile_head(model).fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=0,
                        callbacks=[timer_e2e.callback()])
acc_e2e = model.evaluate(x_test, y_test, verbose=0)[1]
print(f"frozen base + head: test accuracy {acc_e2e:.3f}, {timer_e2e.times[-1]:.1f} s for {EPOCHS} epochs")

# %% [markdown]
# ### `trainable` and `training`: two different switches
#
# The Keras transfer-learning guide (Chollet, 2020) separates them:
# - `layer.trainable` says whether `fit` may change the layer's weights;
# - `training`, an argument of the call, says how the layer behaves: Dropout drops units only when
#   `training=True`; BatchNormalization normalises with the batch's statistics when `training=True` (and
#   updates its moving statistics), with its moving statistics when `training=False`.
#
# BatchNormalization is the special case: in Keras 3 a BatchNormalization layer with `trainable = False`
# runs in inference mode whatever `training` says. The guide also advises `base(x, training=False)` so
# that BatchNormalization stays in inference mode once the base is unfrozen for fine-tuning. One training
# step of a tiny base (a convolution and a BatchNormalization layer) shows what this version of Keras does.

# %%
x_tiny = np.random.default_rng(0).normal(3.0, 2.0, size=(32, 8, 8, 3)).astype("float32")  # far from mean 0, std 1
y_tiny = np.arange(32) % 2


def one_step(base_trainable, bn_trainable, training_false):
    """Train a tiny base in a model for one step; did the convolution's kernel, and BN's moving mean, move?"""
    keras.utils.set_random_seed(0)
    conv, bn = keras.layers.Conv2D(4, 3), keras.layers.BatchNormalization()
    tiny = keras.Sequential([keras.Input((8, 8, 3)), conv, bn], name="tiny_base")
    tiny.trainable = base_trainable
    bn.trainable = bn_trainable and base_trainable
    inp = keras.Input((8, 8, 3))
    h = tiny(inp, training=False) if training_false else tiny(inp)
    m = keras.Model(inp, keras.layers.Dense(2, dtype="float32")(keras.layers.GlobalAveragePooling2D()(h)))
    m.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              jit_compile=False)
    kernel, mean = conv.kernel.numpy().copy(), bn.moving_mean.numpy().copy()
    m.fit(x_tiny, y_tiny, batch_size=32, epochs=1, verbose=0)
    return not np.array_equal(kernel, conv.kernel.numpy()), not np.array_equal(mean, bn.moving_mean.numpy())


CASES = {"frozen base (tiny.trainable = False), training=False": (False, False, True),
         "unfrozen base, called with training=False": (True, True, True),
         "unfrozen base, its BatchNormalization trainable = False": (True, False, False)}
moved = {case: one_step(*args) for case, args in CASES.items()}
for case, (kernel, mean) in moved.items():
    print(f"{case:58s} kernel moved: {kernel!s:5}  BN moving mean moved: {mean}")
assert moved["frozen base (tiny.trainable = False), training=False"] == (False, False)
assert moved["unfrozen base, called with training=False"] == (True, True), "training=False now keeps BN still"
assert moved["unfrozen base, its BatchNormalization trainable = False"] == (True, False)

# %% [markdown]
# Measured: `training=False` on the call did *not* keep an unfrozen BatchNormalization layer in inference
# mode during `fit`; one step moved its moving statistics. Setting the BatchNormalization layers'
# `trainable = False` did, while the convolution still learned: that is how 03_fine_tuning unfreezes a
# base. Here the base is frozen, so nothing in it moves.
#
# And `training` at call time: the same inputs through a layer in training and in inference mode.

# %%
bn_demo, dropout_demo = keras.layers.BatchNormalization(), keras.layers.Dropout(0.5)
z = x_tiny.reshape(-1, 3)


def mode_gap(layer):
    return float(np.abs(layer(z, training=True) - layer(z, training=False)).max())


gaps = {"trainable BatchNormalization": mode_gap(bn_demo), "Dropout": mode_gap(dropout_demo)}
bn_demo.trainable = False
gaps["BatchNormalization, trainable = False"] = mode_gap(bn_demo)
for name, gap in gaps.items():
    print(f"{name:38s} largest change between training=True and training=False: {gap:.3f}")
assert gaps["trainable BatchNormalization"] > 1 and gaps["Dropout"] > 1 and gaps["BatchNormalization, trainable = False"] == 0

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
# the median epoch, leaving out the first (tracing): one epoch stalled by another program does not decide
per_epoch_e2e = np.median(np.diff([0.0] + timer_e2e.times)[1:])
per_epoch_head = np.median(np.diff([0.0] + timer_head.times)[1:])
print(f"features: {extract_seconds:.1f} s, once")
print(f"per epoch: frozen base every epoch {per_epoch_e2e:.3f} s, cached features {per_epoch_head:.4f} s "
      f"-> {per_epoch_e2e / per_epoch_head:.0f}x faster")
print(f"test accuracy: end to end {acc_e2e:.3f}, on cached features {acc_head:.3f}")
assert per_epoch_head * 3 < per_epoch_e2e

# %% [markdown]
# Same accuracy? One run of each is one draw of dropout and initial weights. The cached features make the
# head cheap to train again from other random weights: one run per seed, against the end-to-end model and
# the 1 / 5 of guessing.

# %%
accs_head = []
for seed in SEEDS:
    training.fresh_start(head, seed)   # new random head, optimizer reset
    head.fit(f_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=0)
    accs_head.append(head.evaluate(f_test, y_test, verbose=0)[1])
chance = 1 / len(CLASSES)
print(f"frozen base + new head on cached features, over {len(SEEDS)} seeds: {np.round(accs_head, 3)}; "
      f"end to end {acc_e2e:.3f}; chance {chance:.2f}")
assert abs(acc_e2e - np.mean(accs_head)) < 0.06 and min(accs_head) > chance + 0.25
ledger.record("a frozen base plus a new head works", section="3", value=np.mean(accs_head), spread=np.std(accs_head),
              verdict="shown", figure=f"flowers test accuracy of a frozen ImageNet base plus a new dense head, "
                                      f"{TRAIN_PER_CLASS or 'all'} photos per class, mean (std) over {len(SEEDS)} "
                                      f"head seeds; chance {chance:.2f}",
              note="section 6: on ants and bees, the same recipe on random weights instead of ImageNet's falls far behind");

# %% [markdown]
# The same head, the same data, the same accuracy (up to the randomness of dropout and initial weights);
# each epoch costs a small fraction. The price: no data augmentation (each photo has one cached feature
# vector) and no fine-tuning of the base. Both come in 03_fine_tuning.
#
# ## 4. Which layer to take features from?
#
# Early layers detect generic things (edges, colours); late ones, things specific to ImageNet's
# classes. A *linear probe* measures how useful each depth is for a new task: average-pool the layer's
# output and fit a logistic regression. One forward pass gives all depths.

# %%
PROBE_LAYERS = ["block_1_expand_relu", "block_3_expand_relu", "block_6_expand_relu",
                "block_10_expand_relu", "block_13_expand_relu", "out_relu"]
PROBE_PER_CLASS = 40 if PROFILE.name == "quick" else 100   # each seed fits on its own draw of this many


def probe_model(b):
    """One model, one forward pass: the average-pooled output of each layer of PROBE_LAYERS."""
    return keras.Model(b.input, [keras.layers.GlobalAveragePooling2D()(b.get_layer(n).output) for n in PROBE_LAYERS])


def linear_probes(outs_train, labels_train, outs_test, labels_test):
    """Test accuracy of a logistic regression on each layer's standardised features, one fit per seed."""
    draws = [data.few_shot(labels_train, PROBE_PER_CLASS, seed=s) for s in SEEDS]
    fit = lambda f, i: make_pipeline(StandardScaler(), LogisticRegression(max_iter=300, C=0.1)).fit(f[i], labels_train[i])
    return {name: [fit(ftr, i).score(fte, labels_test) for i in draws]
            for name, ftr, fte in zip(PROBE_LAYERS, outs_train, outs_test)}


multi = probe_model(base)
prep = keras.layers.Rescaling(1 / 127.5, offset=-1)
runs = {"flowers": linear_probes(multi.predict(prep(x_train), batch_size=64, verbose=0), y_train,
                                 multi.predict(prep(x_test), batch_size=64, verbose=0), y_test)}
probe = {name: float(np.mean(accs)) for name, accs in runs["flowers"].items()}
for name, accs in runs["flowers"].items():
    print(f"{name:22s} linear probe {np.mean(accs):.3f} +- {np.std(accs):.3f}")

# %% [markdown]
# On flowers, photos much like ImageNet's, the deep layers win. Is the deepest layer always best? Take a
# target far from ImageNet: handwritten digits (MNIST, grey strokes on black), through the same ImageNet
# base at `DIGITS_SIZE` px, with the same probes.

# %%
DIGITS_SIZE = 48   # small and cheap; the base's last layers see a 2x2 map here
x_digits, y_digits = data.load_mnist(size=DIGITS_SIZE)
digits_train = data.few_shot(y_digits, 60, seed=0)   # 60 per class to draw from, as for the flowers
digits_test = data.few_shot(y_digits, 100, seed=1, indices=np.setdiff1d(np.arange(len(y_digits)), digits_train))
multi_digits = probe_model(models.load_base(BASE_MODEL, alpha=BASE_ALPHA, input_size=DIGITS_SIZE, verbose=False))


def as_photos(x):   # grey in [0, 1] -> three equal channels in [-1, 1], the base's input range
    return np.repeat(x, 3, axis=-1) * 2.0 - 1.0


runs["digits"] = linear_probes(multi_digits.predict(as_photos(x_digits[digits_train]), batch_size=64, verbose=0),
                               y_digits[digits_train],
                               multi_digits.predict(as_photos(x_digits[digits_test]), batch_size=64, verbose=0),
                               y_digits[digits_test])
for name, accs in runs["digits"].items():
    print(f"digits {name:22s} linear probe {np.mean(accs):.3f} +- {np.std(accs):.3f}")

# %%
# extra code - the probe accuracy against depth, for both targets
fig, ax = plt.subplots(figsize=(7, 3))
for target, res in runs.items():
    ax.errorbar(range(len(PROBE_LAYERS)), [np.mean(a) for a in res.values()], yerr=[np.std(a) for a in res.values()],
                marker="o", capsize=3, label=target)
ax.set_xticks(range(len(PROBE_LAYERS)), [n.replace("_expand_relu", "") for n in PROBE_LAYERS], rotation=20)
ax.set_ylabel("linear probe accuracy"); ax.legend(); ax.set_title("features from several depths of one ImageNet base");

# %% [markdown]
# The checks (each seed fits every layer on the same draw of photos): the first layer is the weakest on
# both targets; on flowers one of the two deepest layers is best; on digits the best intermediate layer
# beats the last one on every seed, and the last layer's loss is larger on digits than on flowers.

# %%
per_seed = {t: {n: np.array(a) for n, a in res.items()} for t, res in runs.items()}
first, last, middle = PROBE_LAYERS[0], PROBE_LAYERS[-1], PROBE_LAYERS[1:-1]
best_middle = {t: max(middle, key=lambda n: per_seed[t][n].mean()) for t in runs}
drop = {t: per_seed[t][best_middle[t]] - per_seed[t][last] for t in runs}   # what the last layer loses
for t in runs:
    print(f"{t}: the best intermediate layer ({best_middle[t]}) minus {last}, per seed: {np.round(drop[t], 3)}")
    assert all(per_seed[t][first].mean() + 0.02 < per_seed[t][n].mean() for n in PROBE_LAYERS[1:]), t
assert max(probe, key=probe.get) in PROBE_LAYERS[-2:]
assert drop["digits"].min() > 0.03 and (drop["digits"] - drop["flowers"]).min() > 0.02
ledger.record("early layers are generic, later layers specific", section="4", value=drop["digits"].mean(),
              spread=drop["digits"].std(), verdict="mixed",
              figure=f"linear probes on one ImageNet base, digits: the best intermediate layer ({best_middle['digits']}) "
                     f"minus the last, test accuracy, mean (std) over {len(SEEDS)} seeds; on flowers the same "
                     f"difference is {drop['flowers'].mean():.3f}",
              note="later layers specific: shown (the last layer loses on digits, not on flowers); early layers "
                   "generic: not shown by a linear probe (the first layer is the weakest on both targets)");

# %% [markdown]
# Half of the saying holds here. *Later layers are specific*: the last layer, as good as any on flowers,
# loses to an intermediate one on digits, far from ImageNet's photos. *Early layers are generic* is not
# what a linear probe shows: the first layer (edges, colours) is the weakest on both targets, too little
# on its own for a linear classifier. Which layer to take features from is therefore a measurement on
# your data, not a rule.
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
# photo, or a real weakness of the model. In JupyterLab the slider pages through all the mistakes, most
# confident first: page on until the probabilities fall near 1 / 5, and compare what kind of photo the model
# is sure about and gets wrong with what it hesitates over.

# %%
prob = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
wrong = np.flatnonzero(pred != y_test)
by_confidence = wrong[np.argsort(-prob[wrong, pred[wrong]])]   # the most confident mistake first
PAGE = 8
pages = int(np.ceil(len(wrong) / PAGE))
print(f"{len(wrong)} mistakes out of {len(y_test)} ({pages} pages); the most confident at "
      f"{prob[by_confidence[0], pred[by_confidence[0]]]:.2f}")


def draw_mistakes(page):   # extra code - one page of mistakes, with the probability of the wrong class
    shown = by_confidence[page * PAGE:(page + 1) * PAGE]
    fig = plots.image_grid(x_test[shown].astype("uint8"), y_test[shown], class_names=CLASSES,
                           predictions=pred[shown], ncols=4,
                           title=f"mistakes {page * PAGE + 1}-{page * PAGE + len(shown)} of {len(wrong)} (true / predicted)")
    for ax, i in zip(fig.axes, shown):
        ax.set_title(f"{ax.get_title()} {prob[i, pred[i]]:.2f}", fontsize=8, color="red")
    print("probability of the predicted class:", np.round(prob[shown, pred[shown]], 2))


interactive.explore(draw_mistakes, {"page": interactive.Slider(0, max(pages - 1, 1), 1, default=0)},
                    title="the mistakes, most confident first")

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
# With a couple of hundred photos, a linear classifier on ImageNet's features gets most validation photos
# right; on the same network's features with random weights it does far worse (both printed above): what
# transfers is what ImageNet taught the weights, not the architecture.
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
#   pooling, dropout and a dense layer. A frozen base plus a new head works: well above chance on every seed.
# - `trainable` decides whether `fit` changes weights; `training` decides how Dropout and BatchNormalization
#   behave. In this Keras, only `trainable = False` kept BatchNormalization's statistics still during
#   `fit`; `training=False` on the call did not, once the base was unfrozen.
# - A frozen base gives the same features every epoch: compute them once, cache them, and train the head
#   many times faster for the same accuracy.
# - Which layer to take features from is a measurement: a linear probe per depth. "Early generic, later
#   specific" is mixed here: the last layer is among the best on flowers and loses to an intermediate one on
#   digits (later layers specific), but the first layer is the weakest on both targets.
# - Look at the features (PCA, t-SNE), the confusion matrix and the most confident mistakes before
#   trusting an accuracy.
# - Where data is scarce (244 ants/bees photos), ImageNet's features beat the same network's random ones by
#   a wide margin: what transfers is the training, not the architecture.
#
# **Further reading**
# - Donahue, J. et al. (2014). DeCAF: A deep convolutional activation feature for generic visual recognition. *ICML*.
# - Sharif Razavian, A., Azizpour, H., Sullivan, J. and Carlsson, S. (2014). CNN features off-the-shelf: an astounding baseline for recognition. *CVPR Workshops*.
# - Alain, G. and Bengio, Y. (2017). Understanding intermediate layers using linear classifier probes. *ICLR Workshop*.
# - Chollet, F. (2020). Transfer learning & fine-tuning. Keras developer guides, keras.io.
