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
# - how transferable each layer is, measured by copying it (Yosinski et al.'s self-transfer control);
# - to inspect features and errors: 2-D projections, a confusion matrix, the most confident mistakes.
#
# **Prerequisites:** 01_what_is_transfer_learning.
#
# **Terms:** [the course glossary](GLOSSARY.md).
#
# **Estimated time:** (generated from tlcourse/minutes.json)

# %%
import time

import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import TSNE
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import tlcourse
from tlcourse import claims, data, features, interactive, models, plots, training
from tlcourse.scratch import digits_cnn
from tlcourse_exercises import feature_extraction

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
                        callbacks=[timer_e2e])
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
                       callbacks=[timer_head])
acc_head = head.evaluate(f_test, y_test, verbose=0)[1]

# %%
# the median epoch, leaving out the first (tracing): one epoch stalled by another program does not decide
per_epoch_e2e = np.median(np.diff([0.0] + timer_e2e.times)[1:])
per_epoch_head = np.median(np.diff([0.0] + timer_head.times)[1:])
print(f"features: {extract_seconds:.1f} s, once")
print(f"per epoch: frozen base every epoch {per_epoch_e2e:.3f} s, cached features {per_epoch_head:.4f} s "
      f"-> {per_epoch_e2e / per_epoch_head:.0f}x faster")
print(f"test accuracy: end to end {acc_e2e:.3f}, on cached features {acc_head:.3f}")
assert np.allclose(f_test[:16], extractor.predict(x_test[:16], verbose=0), atol=1e-4)   # the cache equals the model

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

# %% [markdown]
# The same head, the same data: the accuracies printed above differ only by the randomness of dropout and
# initial weights, and each epoch costs a small fraction. Whether the frozen base *works*, that is, whether
# what ImageNet taught it is what helps, section 4 measures against the same network with random weights.
# The price of the cache: no data augmentation (each photo has one cached feature
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
PROBE_SEEDS = list(range(10))   # a logistic regression on computed features is cheap: ten draws, narrow intervals


def probe_model(b, names=PROBE_LAYERS):
    """One model, one forward pass: the average-pooled output of each layer of `names` (a list of arrays)."""
    return keras.Model(b.input, [keras.layers.GlobalAveragePooling2D()(b.get_layer(n).output) for n in names])


def linear_probes(outs_train, labels_train, outs_test, labels_test, names=PROBE_LAYERS):
    """Test accuracy of a logistic regression on each layer's standardised features, one fit per seed's draw."""
    draws = [data.few_shot(labels_train, PROBE_PER_CLASS, seed=s) for s in PROBE_SEEDS]
    fit = lambda f, i: make_pipeline(StandardScaler(), LogisticRegression(max_iter=300, C=0.1)).fit(f[i], labels_train[i])
    with features.one_blas_thread():   # many small fits: one thread each is faster on a busy CPU
        return {name: [fit(ftr, i).score(fte, labels_test) for i in draws]
                for name, ftr, fte in zip(names, outs_train, outs_test)}


multi = probe_model(base)
prep = keras.layers.Rescaling(1 / 127.5, offset=-1)
runs = {"flowers": linear_probes(multi.predict(prep(x_train), batch_size=64, verbose=0), y_train,
                                 multi.predict(prep(x_test), batch_size=64, verbose=0), y_test)}
probe = {name: float(np.mean(accs)) for name, accs in runs["flowers"].items()}
for name, accs in runs["flowers"].items():
    print(f"{name:22s} linear probe {np.mean(accs):.3f} +- {np.std(accs):.3f}")

# %% [markdown]
# On flowers, photos much like ImageNet's, read which depth wins above. Is the deepest layer always best? Take a
# target far from ImageNet: handwritten digits (MNIST, grey strokes on black), through the same ImageNet
# base at `DIGITS_SIZE` px, with the same probes.

# %%
DIGITS_SIZE = 48   # small and cheap; the base's last layers see a 2x2 map here
x_digits, y_digits = data.load_mnist(size=DIGITS_SIZE)
digits_train = data.few_shot(y_digits, 60, seed=0)   # 60 per class to draw from, as for the flowers
digits_test = data.few_shot(y_digits, 100, seed=1, indices=np.setdiff1d(np.arange(len(y_digits)), digits_train))
multi_digits = probe_model(models.load_base(BASE_MODEL, alpha=BASE_ALPHA, input_size=DIGITS_SIZE))


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
# Does the frozen base work because of what ImageNet taught it? The control is the same network with random
# weights, frozen as well, probed on its last layer (the features the head of section 3 sees) with the same
# draws of photos: on flowers, where ImageNet's training should help, and on digits, far from ImageNet, where
# it may help less.

# %%
LAST = PROBE_LAYERS[-1]
keras.utils.set_random_seed(0)
random_runs = {}
for target, size, x_tr, y_tr, x_te, y_te in [
        ("flowers", IMAGE_SIZE, prep(x_train), y_train, prep(x_test), y_test),
        ("digits", DIGITS_SIZE, as_photos(x_digits[digits_train]), y_digits[digits_train],
         as_photos(x_digits[digits_test]), y_digits[digits_test])]:
    rand = probe_model(models.load_base(BASE_MODEL, alpha=BASE_ALPHA, input_size=size, weights=None),
                       [LAST])
    outs = [rand.predict(x, batch_size=64, verbose=0) for x in (x_tr, x_te)]
    outs = [o[0] if isinstance(o, list) else o for o in outs]
    random_runs[target] = linear_probes([outs[0]], y_tr, [outs[1]], y_te, names=[LAST])[LAST]
works = {t: claims.compare(runs[t][LAST], random_runs[t]) for t in runs}
for t, c in works.items():
    print(claims.conclusion(c, "the frozen ImageNet base", "the same network with random weights",
                            f"on {t}, with a linear head on {LAST}"))

# %% [markdown]
# Which depth to take on each target? The deepest intermediate layer probed (`block_13_expand_relu`)
# against the last, with the same draws: on digits, far from ImageNet, the last layer may be too specific
# to ImageNet's classes; on flowers it should not be.

# %%
MIDDLE = "block_13_expand_relu"
deeper = {t: claims.compare(runs[t][MIDDLE], runs[t][LAST]) for t in runs}
for t, c in deeper.items():
    print(claims.conclusion(c, MIDDLE, LAST, f"on {t}"))

# %% [markdown]
# A linear probe measures how easily a linear classifier separates the new classes in a layer's features;
# the first layer (edges, colours) is usually a poor probe on its own, and that says nothing about whether it
# is *generic*. Which layer to take features from is therefore a measurement on your data, not a rule.
#
# ### How transferable is each layer? Copy it and see (Yosinski et al., 2014)
#
# Yosinski, Clune, Bengio and Lipson (2014) measured transfer itself, not separability: split one data set
# into two tasks, train a network on each, then build a network for task B from the first n layers of the
# task-A network, frozen, with the layers above them trained anew on B (*AnB*). The control is
# *self-transfer* (*BnB*): the same, with the first n layers copied from B's own network. Where AnB matches
# BnB, the first n layers serve B as well as B's own: generic. Where it falls behind, they are specific to A.
# A third arm, *AnB+*, fine-tunes the copied layers as well. Here task A is digits 0-4 and task B digits
# 5-9 (01's small digits CNN); n = 1 is the first convolution block, 2 both, 3 the dense layer as well.

# %%
x_mnist, y_mnist = data.load_mnist()   # 28 px, in [0, 1]
task_a = np.flatnonzero(y_mnist < 5)
task_b = np.random.default_rng(0).permutation(np.flatnonzero(y_mnist >= 5))
x_b, y_b = x_mnist[task_b[:1000]], y_mnist[task_b[:1000]] - 5              # task B's training images
x_b_test, y_b_test = x_mnist[task_b[1000:2000]], y_mnist[task_b[1000:2000]] - 5
BLOCKS = {1: 4, 2: 8, 3: 12}   # n -> the first n blocks are this many layers of the feature extractor


def digits_net(frozen=0):
    """01's digits CNN for 5 classes, its first `frozen` feature layers frozen, compiled."""
    fe, clf = digits_cnn(num_classes=5)
    for layer in fe.layers[:frozen]:
        layer.trainable = False
    net = keras.Sequential([fe, clf])
    net.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=["accuracy"], jit_compile=False)
    return net

# %%
keras.utils.set_random_seed(0)
net_a, net_b = digits_net(), digits_net()
net_a.fit(x_mnist[task_a], y_mnist[task_a], epochs=2, batch_size=64, verbose=0)
net_b.fit(x_b, y_b, epochs=4, batch_size=64, verbose=0)
print(f"network A: {len(task_a)} images of digits 0-4; network B: {len(x_b)} images of digits 5-9, "
      f"test accuracy {net_b.evaluate(x_b_test, y_b_test, verbose=0)[1]:.3f}")

# %%
arms = {n: digits_net(frozen=cut) for n, cut in BLOCKS.items()} | {"AnB+": digits_net()}   # compiled once


def transfer_run(n, source, seed, tuned=False):
    """Copy the first n blocks of `source`, train the rest anew on task B, return task B's test accuracy."""
    net = arms["AnB+" if tuned else n]
    training.fresh_start(net, seed)   # new random weights for what is trained, optimizer reset
    pairs = list(zip(net.layers[0].layers[:BLOCKS[n]], source.layers[0].layers[:BLOCKS[n]]))
    for layer, copied in pairs:
        layer.set_weights(copied.get_weights())
    net.fit(x_b, y_b, epochs=2, batch_size=32, verbose=0)
    if not tuned:   # frozen means frozen: the copied layers (BatchNormalization statistics too) did not move
        assert all(np.array_equal(w, c) for layer, copied in pairs
                   for w, c in zip(layer.get_weights(), copied.get_weights()))
    return net.evaluate(x_b_test, y_b_test, verbose=0)[1]

# %%
transfer = {}
for seed in SEEDS:
    for n in BLOCKS:
        transfer.setdefault(("AnB", n), []).append(transfer_run(n, net_a, seed))
        transfer.setdefault(("BnB", n), []).append(transfer_run(n, net_b, seed))
    transfer.setdefault(("AnB+", 3), []).append(transfer_run(3, net_a, seed, tuned=True))
loss = {n: claims.compare(transfer[("BnB", n)], transfer[("AnB", n)]) for n in BLOCKS}
for n, c in loss.items():
    print(claims.conclusion(c, "self-transfer (BnB)", "transfer from digits 0-4 (AnB)",
                            f"with the first {n} block{'s' if n > 1 else ''} copied and frozen"))
tuned = claims.compare(transfer[("AnB+", 3)], transfer[("BnB", 3)])
print(claims.conclusion(tuned, "transfer from digits 0-4 fine-tuned (AnB+)", "self-transfer (BnB)",
                        "with all 3 blocks copied"))

# %%
# extra code - task B's accuracy against the number of copied blocks, as in Yosinski et al.'s figure 2
fig, ax = plt.subplots(figsize=(6, 3))
for arm, style in (("BnB", "o-"), ("AnB", "s-")):
    ax.errorbar(list(BLOCKS), [np.mean(transfer[(arm, n)]) for n in BLOCKS],
                yerr=[np.std(transfer[(arm, n)]) for n in BLOCKS], fmt=style, capsize=3, label=arm)
ax.errorbar([3.08], [np.mean(transfer[("AnB+", 3)])], yerr=[np.std(transfer[("AnB+", 3)])], fmt="^",
            capsize=3, label="AnB+ (fine-tuned)")
ax.set_xticks(list(BLOCKS)); ax.set_xlabel("blocks copied (n)"); ax.set_ylabel("digits 5-9 test accuracy")
ax.legend(fontsize=8); ax.set_title(f"transfer from digits 0-4 against self-transfer, {len(SEEDS)} seeds");

# %% [markdown]
# Read the verdicts above. Copying the convolution blocks from the network trained on digits 0-4 should
# cost task B little against copying B's own (they are generic: strokes and corners serve every digit),
# while the dense layer, trained to separate 0-4, should cost a lot when frozen (specific), and little once
# fine-tuned. That is what Yosinski et al. (2014, figure 2) found on ImageNet with an eight-layer network,
# where the specific layers start near the top. Unlike a linear probe, this measures what reusing a layer
# costs, against the right control.
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
results_ab, fitted_ab = {}, {}
for weights in ("imagenet", None):
    keras.utils.set_random_seed(0)
    b = models.load_base(BASE_MODEL, alpha=BASE_ALPHA, input_size=IMAGE_SIZE, weights=weights, pooling="avg")
    ext = keras.Sequential([keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3)), keras.layers.Rescaling(1 / 127.5, offset=-1), b])
    f = {s: features.extract_features(ext, x) for s, x in ab_x.items()}
    clf = LogisticRegression(max_iter=1000, C=0.1).fit(f["train"], ab["train"].labels)
    results_ab[weights or "random"] = clf.score(f["val"], ab["val"].labels)
    fitted_ab[weights or "random"] = (clf, f)
print({k: round(v, 3) for k, v in results_ab.items()}, "train", ab["train"].counts(), "val", ab["val"].counts())

# %%
right = {k: (clf.predict(f["val"]) == ab["val"].labels).astype(float) for k, (clf, f) in fitted_ab.items()}
gap = right["imagenet"] - right["random"]   # per validation photo: one split, so resample the photos
boot = np.random.default_rng(0).choice(gap, size=(1000, gap.size)).mean(axis=1)
print(claims.conclusion(claims.compare([gap.mean()], se_floor=boot.std(), over="a paired bootstrap of the photos"),
                        "ImageNet's weights", "random weights", "on ants and bees"))

# %% [markdown]
# With a couple of hundred photos, a linear classifier on ImageNet's features gets most validation photos
# right; on the same network's features with random weights it does far worse in the course's runs (both
# accuracies and the verdict are printed above): what transfers is what ImageNet taught the weights, not the
# architecture.
#
# ## Exercises
#
# ### Exercise 1 (about 5 min)
# Build `fe_model` for the flowers from a *new* frozen base `fe_base` (given below): input, preprocessing,
# the base in inference mode, global average pooling, dropout, a dense layer with one output per class.

# %%
fe_base = models.load_base(BASE_MODEL, alpha=BASE_ALPHA, input_size=IMAGE_SIZE)
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

# %% [markdown]
# ### Exercise 3 (about 10 min)
# Do the feature extraction yourself where the choice of layer pays: the digits of section 4, far from ImageNet.
# Build a Keras model from the digits base's input (`multi_digits.input`) to the average-pooled outputs of
# `digits_layer` and of the last layer `LAST` (`multi_digits.get_layer(name).output`), compute both layers'
# features of the training digits `xd_train` and of the test digits `xd_test`, then fit `digits_clf` on the first
# and `last_clf` on the second, each a `make_pipeline(StandardScaler(), LogisticRegression(max_iter=300, C=0.1))`.
# Print both test accuracies: with all 60 training digits per class, what does the intermediate layer gain over
# the last?

# %%
digits_layer = max(PROBE_LAYERS[:-1], key=lambda n: np.mean(runs["digits"][n]))  # the best intermediate depth
xd_train, yd_train = as_photos(x_digits[digits_train]), y_digits[digits_train]   # 60 digits per class
xd_test, yd_test = as_photos(x_digits[digits_test]), y_digits[digits_test]       # 100 per class, never fitted on
digits_clf, last_clf = None, None  # your two fitted classifiers

# %%
print(feature_extraction.check_far_target_features(digits_clf, last_clf, digits_layer, multi_digits, PROBE_LAYERS,
                                                   (xd_train, yd_train), (xd_test, yd_test)))

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

# %% tags=["solution"]
pooled = [keras.layers.GlobalAveragePooling2D()(multi_digits.get_layer(n).output) for n in (digits_layer, LAST)]
two_layers = keras.Model(multi_digits.input, pooled)   # one forward pass gives both layers' features
(mid_train, last_train), (mid_test, last_test) = (two_layers.predict(x, batch_size=64, verbose=0)
                                                  for x in (xd_train, xd_test))
logistic = lambda f: make_pipeline(StandardScaler(), LogisticRegression(max_iter=300, C=0.1)).fit(f, yd_train)
digits_clf, last_clf = logistic(mid_train), logistic(last_train)
acc_mid, acc_last = digits_clf.score(mid_test, yd_test), last_clf.score(last_test, yd_test)
print(f"digits, 60 training images per class: {digits_layer} {acc_mid:.3f}, {LAST} {acc_last:.3f}, "
      f"gain {acc_mid - acc_last:+.3f}")
assert feature_extraction.check_far_target_features(digits_clf, last_clf, digits_layer, multi_digits, PROBE_LAYERS,
                                                    (xd_train, yd_train), (xd_test, yd_test), show=True)

# %% [markdown]
# ## Quiz
#
# Six questions on this lesson. Choose, tick or type an answer and press **Check**: the
# feedback says why it is right or wrong. Where widgets cannot be drawn (a terminal, a static page),
# the questions print as text, and `quiz.show("02_feature_extraction", answers=True)` prints the answers.

# %%
from tlcourse_exercises import quiz

quiz.show("02_feature_extraction")

# %% [markdown]
# ## Key points
# - Feature extraction: `include_top=False`, `base.trainable = False`, `base(x, training=False)`, then
#   pooling, dropout and a dense layer. Whether the frozen base works is measured against the same network
#   with random weights: on flowers, photos like ImageNet's, and on digits, far from them (the printed
#   verdicts of section 4 say by how much each time).
# - `trainable` decides whether `fit` changes weights; `training` decides how Dropout and BatchNormalization
#   behave. In this Keras, only `trainable = False` kept BatchNormalization's statistics still during
#   `fit`; `training=False` on the call did not, once the base was unfrozen.
# - A frozen base gives the same features every epoch: compute them once, cache them (the cache equals the
#   model, checked), and train the head many times faster.
# - Which layer to take features from is a measurement: a linear probe per depth, on your data. A probe
#   measures separability, not transferability.
# - Transferability is measured by copying layers (Yosinski et al., 2014): the first n blocks of a network
#   trained on digits 0-4, frozen, against the same blocks from digits 5-9's own network. Early layers are
#   generic when copying them costs nothing against that control; later layers specific when it does, and
#   fine-tuning them wins it back. Section 4 prints what this run found at each depth.
# - Look at the features (PCA, t-SNE), the confusion matrix and the most confident mistakes before
#   trusting an accuracy.
# - Where data is scarce (244 ants/bees photos), compare ImageNet's features with the same network's random
#   ones: what transfers is the training, not the architecture.
#
# **Further reading**
# - Donahue, J. et al. (2014). DeCAF: A deep convolutional activation feature for generic visual recognition. *ICML*.
# - Alain, G. and Bengio, Y. (2017). Understanding intermediate layers using linear classifier probes. *ICLR Workshop*.
# - Yosinski, J., Clune, J., Bengio, Y. and Lipson, H. (2014). How transferable are features in deep neural networks? *NeurIPS*.
# - Chollet, F. (2020). Transfer learning & fine-tuning. Keras developer guides, keras.io.
