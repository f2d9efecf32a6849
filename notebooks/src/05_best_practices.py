# %% [markdown]
# # 05 Best practices, each one measured
#
# Advice about transfer learning is easy to state and hard to trust. Here every practice the course
# recommends comes with a measurement made on this machine, in this run, small enough to finish in about two
# minutes on a laptop CPU. Small runs are noisy: where two numbers differ by less than their standard error,
# the honest reading is "no difference here", and the notebook says so.
#
# **You will learn**
# - to choose a base model by what it was trained on, and what a distant source (negative transfer) does;
# - which regularisation helps at which number of labels, and how to spot over-fitting and stop it early;
# - learning-rate warm-up and cosine decay, linear probe then fine-tune (LP-FT), and layer-wise learning rates
#   in Keras, measured in and out of distribution;
# - what makes training fast (batch size, data pipeline, mixed precision, XLA) on a CPU and on GPUs;
# - to make runs reproducible, to save and export a model, and to load untrusted model files safely.
#
# **Prerequisites:** 02_feature_extraction and 03_fine_tuning.
#
# **Terms:** [the course glossary](GLOSSARY.md).
#
# **Estimated time:** (generated from tlcourse/minutes.json)

# %%
import tlcourse  # noqa: I001 - first: it keeps TensorFlow's start-up log lines out of the notebook
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tlcourse import data, models, plots, practices
from tlcourse.exercises import best_practices as exercises

report = tlcourse.setup(seed=42)

# %% [markdown]
# The quick profile works at 96 px (the smallest size the ImageNet MobileNets were trained at) on a subset of
# the flower photos, so that every comparison fits in the budget; the full profile uses more images and the
# profile's size.

# %%
PROFILE = report.profile
QUICK = PROFILE.name == "quick"
IMAGE_SIZE = 96 if QUICK else PROFILE.image_size
TRAIN_PER_CLASS = 100 if QUICK else 400
VAL_PER_CLASS, TEST_PER_CLASS = (20, 60) if QUICK else (60, 150)
SEEDS = 2 if QUICK else PROFILE.seeds
FT_EPOCHS = 4 if QUICK else 15
OUT = Path("outputs/05_best_practices")
OUT.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# The flower photos, split once with a fixed seed into a training pool, a validation set (for choices) and a
# test set (for the figures), with the same number of photos per class in each.

# %%
flowers = data.scan_images(data.dataset_path("flowers"), check=False)
rest = np.arange(len(flowers))
idx = {}
for name, k in (("test", TEST_PER_CLASS), ("val", VAL_PER_CLASS), ("train", TRAIN_PER_CLASS)):
    idx[name] = data.few_shot(flowers.labels, k, seed=42, indices=rest)
    rest = np.setdiff1d(rest, idx[name])
x = {k: data.load_images([flowers.files[i] for i in v], image_size=IMAGE_SIZE) for k, v in idx.items()}
y = {k: flowers.labels[v] for k, v in idx.items()}
CLASSES = flowers.class_names
print({k: v.shape for k, v in x.items()}, CLASSES)

# %% [markdown]
# ## 1. Choose a base trained on data like yours
#
# A linear probe (a logistic regression on the frozen base's pooled features) measures how good a base's
# features are for *your* data. Five bases: the two ImageNet MobileNets the course has offline; MobileNetV2
# with random weights (no transfer at all); and a small CNN trained here for one epoch on 8,000 MNIST digits,
# a distant source, beside the same CNN untrained. The digits CNN sees the photos the way it saw digits:
# grayscale, 28 px.

# %%
def probe(features_train, features_test, seed=0):
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=3000, random_state=seed))
    return clf.fit(features_train, y["train"]).score(features_test, y["test"])


def imagenet_extractor(name, alpha, weights="imagenet"):
    base = models.load_base(name, input_size=IMAGE_SIZE, alpha=alpha, weights=weights, pooling="avg",
                            verbose=False)
    pre = models.preprocess_input(name)
    return base, lambda images: base.predict(pre(images.astype("float32")), batch_size=64, verbose=0)


# %%
def digits_cnn():
    inputs = keras.Input((28, 28, 1))
    h = keras.layers.Conv2D(32, 3, activation="relu")(inputs)
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Conv2D(64, 3, activation="relu")(h)
    h = keras.layers.MaxPooling2D()(h)
    features = keras.layers.Dense(128, activation="relu", name="features")(keras.layers.Flatten()(h))
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax", dtype="float32")(features))


start = time.perf_counter()
x_mnist, y_mnist = data.load_mnist()
keras.utils.set_random_seed(0)
mnist_model = digits_cnn()
mnist_model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
mnist_model.fit(x_mnist[:8000], y_mnist[:8000], epochs=1, batch_size=64, verbose=0)
print(f"digits CNN: MNIST held-out accuracy {mnist_model.evaluate(x_mnist[8000:], y_mnist[8000:], verbose=0)[1]:.3f}"
      f" after {time.perf_counter() - start:.0f} s of training")

# %%
def digits_extractor(cnn):
    trunk = keras.Model(cnn.input, cnn.get_layer("features").output)

    def extract(images):
        gray = tf.image.resize(tf.image.rgb_to_grayscale(images.astype("float32")), (28, 28)) / 255.0
        return trunk.predict(gray.numpy(), batch_size=256, verbose=0)
    return trunk, extract


keras.utils.set_random_seed(1)
bases = {
    "MobileNetV2 0.35, ImageNet": imagenet_extractor("mobilenet_v2", 0.35),
    "MobileNet 0.25, ImageNet": imagenet_extractor("mobilenet", 0.25),
    "MobileNetV2 0.35, random": imagenet_extractor("mobilenet_v2", 0.35, weights=None),
    "digits CNN, MNIST": digits_extractor(mnist_model),
    "digits CNN, random": digits_extractor(digits_cnn()),
}

# %%
feats, rows = {}, {}
for name, (model, extract) in bases.items():
    feats[name] = {"train": extract(x["train"])}
    start = time.perf_counter()
    feats[name]["test"] = extract(x["test"])
    speed = len(x["test"]) / (time.perf_counter() - start)
    path = OUT / f"{name.replace(' ', '_').replace(',', '')}.weights.h5"
    model.save_weights(path)
    rows[name] = (probe(feats[name]["train"], feats[name]["test"]), model.count_params(),
                  practices.file_size_mb(path), speed)
print(f"{'base':<28}{'probe acc':>10}{'params':>11}{'MB':>7}{'img/s':>8}")
for name, (acc, n, mb, speed) in rows.items():
    print(f"{name:<28}{acc:>10.3f}{n:>11,}{mb:>7.1f}{speed:>8.0f}")
print(f"(test set: {len(y['test'])} photos, standard error of an accuracy near 0.7: "
      f"{np.sqrt(0.7 * 0.3 / len(y['test'])):.3f}; chance 0.2)")

# %% [markdown]
# Transfer from ImageNet, whose photos resemble these, is expected to beat random weights by a wide margin; the
# check below asserts a margin of 0.15 (0.10 for the smaller MobileNet), well beyond the noise printed above. Read the digits rows yourself: does MNIST pretraining beat the same CNN with
# random weights on flowers, or do worse (negative transfer)? The cell prints which.

# %%
acc = {name: r[0] for name, r in rows.items()}
assert acc["MobileNetV2 0.35, ImageNet"] > acc["MobileNetV2 0.35, random"] + 0.15, acc
assert acc["MobileNet 0.25, ImageNet"] > acc["MobileNetV2 0.35, random"] + 0.10, acc
gap = acc["digits CNN, MNIST"] - acc["digits CNN, random"]
se = np.sqrt(2 * 0.25 / len(y["test"]))
verdict = ("negative transfer: the distant source does WORSE than no pretraining" if gap < -se else
           "the distant source helps a little" if gap > se else
           "no measurable difference: the distant source neither helps nor hurts here")
print(f"digits pretraining minus random digits CNN: {gap:+.3f} (noise about {se:.3f}) -> {verdict}")

# %% [markdown]
# ## 2. Better ImageNet models transfer better
#
# Kornblith, Shlens and Le (2019, "Do Better ImageNet Models Transfer Better?") found, over 16 networks and 12
# data sets, that ImageNet top-1 accuracy predicts linear-probe transfer accuracy closely (correlation 0.99 for
# fixed features). Offline, this course has only the two smallest MobileNets; the full profile (or a machine
# with internet) adds every base it can load. Bases whose weights are not here are listed, not faked.

# %%
candidates = [("mobilenet_v2", 0.35), ("mobilenet", 0.25)]
if not QUICK:
    candidates += [("mobilenet_v2", 1.0), ("efficientnet_b0", None), ("resnet50", None)]
ranking = {"MobileNetV2 0.35": acc["MobileNetV2 0.35, ImageNet"], "MobileNet 0.25": acc["MobileNet 0.25, ImageNet"]}
top1 = {"MobileNetV2 0.35": 0.603, "MobileNet 0.25": 0.506}
for name, alpha in candidates[2:]:
    try:
        _, extract = imagenet_extractor(name, alpha)
    except models.WeightsNotAvailableError:
        print(f"{name} {alpha or ''}: weights not available here (offline); skipped")
        continue
    label = f"{name} {alpha or ''}".strip()
    ranking[label] = probe(extract(x["train"]), extract(x["test"]))
    top1[label] = models.BASE_MODELS[name].imagenet_top1[alpha]
for label in sorted(ranking, key=top1.get):
    print(f"{label:<22} ImageNet top-1 {top1[label]:.3f}   flowers probe {ranking[label]:.3f}")
order = sorted(ranking, key=top1.get)
agrees = all(ranking[a] <= ranking[b] for a, b in zip(order, order[1:]))
print("the flowers ranking follows the ImageNet ranking:", agrees)

# %% [markdown]
# With two small bases the ranking is one comparison: the one with higher ImageNet accuracy (MobileNetV2 0.35,
# 60.3% against 50.6%, Keras Applications' table) is expected to probe better. Two points cannot show a trend;
# the full profile's list can. The parameter counts and file sizes above are the other half of the choice:
# among bases of one family, the better one is bigger, and you pay for it at every prediction.

# %% [markdown]
# ## 3. Small data: which regularisation helps where
#
# Three classic guards against over-fitting, off, augmentation alone, and all three, at 5 and 100 labelled
# photos per class, on the
# MobileNetV2 features computed above: **augmentation** (here: the features of horizontally flipped copies of
# the training photos, so it costs one more pass of the base), **dropout** (0.5 on the features) and **weight
# decay** (AdamW, 1e-2). A softmax head, full-batch, 150 epochs, mean of two seeds.

# %%
fmodel, fextract = bases["MobileNetV2 0.35, ImageNet"]
f_train, f_test = feats["MobileNetV2 0.35, ImageNet"]["train"], feats["MobileNetV2 0.35, ImageNet"]["test"]
f_flip = fextract(x["train"][:, :, ::-1])


def head_accuracy(k, augment, dropout, decay, seed):
    chosen = data.few_shot(y["train"], k, seed=seed)
    xs, ys = f_train[chosen], y["train"][chosen]
    if augment:
        xs, ys = np.concatenate([xs, f_flip[chosen]]), np.concatenate([ys, ys])
    keras.utils.set_random_seed(seed)
    head = keras.Sequential([keras.Input(xs.shape[1:]), keras.layers.Dropout(0.5 if dropout else 0.0),
                             keras.layers.Dense(len(CLASSES), activation="softmax", dtype="float32")])
    head.compile(keras.optimizers.AdamW(3e-3, weight_decay=1e-2 if decay else 0.0), "sparse_categorical_crossentropy")
    head.fit(tf.data.Dataset.from_tensors((xs, ys)).repeat(150), epochs=1, shuffle=False, verbose=0)  # 150 steps
    return np.mean(np.asarray(head(f_test)).argmax(1) == y["test"])


# %%
configs = {"none": (0, 0, 0), "augmentation": (1, 0, 0), "all three": (1, 1, 1)}
small_data = {}
for k in (5, 100):
    for cname, flags in configs.items():
        small_data[(k, cname)] = np.mean([head_accuracy(k, *flags, seed=s) for s in range(SEEDS)])
    print(f"{k:>3} per class: " + "  ".join(f"{c} {small_data[(k, c)]:.3f}" for c in configs)
          + f"  | all three minus none {small_data[(k, 'all three')] - small_data[(k, 'none')]:+.3f}")
print(f"standard error of one mean here: about {np.sqrt(0.5 * 0.5 / len(y['test']) / SEEDS):.3f}")

# %% [markdown]
# Read the two rows against the noise printed under them. Regularisation is expected to matter most where
# labels are few and the head can memorise them; with a hundred photos per class and a linear head on frozen
# features there is less over-fitting to prevent. Compare the two differences the cell printed. Augmentation also changes what the model
# is invariant to: a horizontal flip is safe for flowers, not for digits or text.

# %% [markdown]
# ## 4. Watch for over-fitting: learning curves, early stopping, the best weights
#
# A bigger head (a hidden layer of 256) on 10 photos per class, trained 30 epochs at a high rate, over-fits:
# training loss keeps falling while validation loss turns up. `EarlyStopping(restore_best_weights=True)` stops
# a few epochs after the best validation loss and puts those weights back, and saves the epochs after it.
# Compare the test accuracy of the weights each run keeps: validation *loss* punishes over-confidence before
# accuracy drops, so the two can disagree by a little; on a run that over-fits for longer, accuracy falls too.

# %%
chosen = data.few_shot(y["train"], 10, seed=0)
f_val = fextract(x["val"])


def big_head():
    keras.utils.set_random_seed(0)
    head = keras.Sequential([keras.Input(f_train.shape[1:]), keras.layers.Dense(256, activation="relu"),
                             keras.layers.Dense(len(CLASSES), activation="softmax", dtype="float32")])
    head.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return head


runs = {}
for name, callbacks in (("no early stopping", []),
                        ("early stopping", [keras.callbacks.EarlyStopping("val_loss", patience=5,
                                                                          restore_best_weights=True)])):
    head = big_head()
    runs[name] = head.fit(f_train[chosen], y["train"][chosen], validation_data=(f_val, y["val"]), epochs=30,
                          batch_size=50, callbacks=callbacks, verbose=0)
    test_acc = np.mean(np.asarray(head(f_test)).argmax(1) == y["test"])
    vl = runs[name].history["val_loss"]
    print(f"{name:<18}: {len(vl)} epochs, best val loss {min(vl):.3f} at epoch {int(np.argmin(vl)) + 1}, "
          f"last {vl[-1]:.3f}; test accuracy of the weights kept {test_acc:.3f}")
plots.learning_curves(runs, metrics=["loss"], title="over-fitting, and early stopping");

# %%
vl = runs["no early stopping"].history["val_loss"]
assert vl[-1] > min(vl) + 0.05, "the long run should over-fit: its last validation loss is above its best"
assert len(runs["early stopping"].history["val_loss"]) < 30, "early stopping should have stopped the run"

# %% [markdown]
# ## 5. Fine-tuning: learning-rate schedules, and linear probe first (LP-FT)
#
# Fine-tuning on a CPU is slow, so this section fine-tunes the **top three blocks** of MobileNetV2 (blocks 14
# to 16 and the last convolution) and caches the output of the frozen bottom once: with the bottom frozen,
# training on its cached output is the same computation (`models.split_at` splits the base and checks that
# no skip connection crosses the cut). BatchNormalization stays frozen and augmentation is off (it would need
# the bottom on every step).
#
# The comparison, in distribution (the test photos) and out of distribution (the same test photos changed:
# grayscale and darker, as if from another camera):
# - **FT**: fine-tune with a random head, constant rate;
# - **LP-FT** (Kumar et al. 2022, "Fine-Tuning can Distort Pretrained Features and Underperform
#   Out-of-Distribution"): fit the head first on frozen features, then fine-tune: the random head's large early
#   gradients no longer scramble the pretrained features, which matters most out of distribution;
# - **LP-FT + warm-up and cosine decay**: the rate rises over the first tenth of the steps, then decays to zero.

# %%
bottom, top = models.split_at(fmodel, "block_14_expand")  # fmodel: MobileNetV2 0.35 with average pooling
pre = models.preprocess_input("mobilenet_v2")


def changed(images):  # out of distribution: grayscale and darker
    return (tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(images.astype("float32"))) * 0.6).numpy()


acts = {k: bottom.predict(pre(x[k].astype("float32")), batch_size=64, verbose=0) for k in ("train", "val", "test")}
acts["ood"] = bottom.predict(pre(changed(x["test"])), batch_size=64, verbose=0)
start_weights = top.get_weights()
print({k: v.shape for k, v in acts.items()}, "| top layers:", len(top.layers))

# %%
pooled = {k: np.asarray(top(v)) for k, v in acts.items()}  # top(bottom(x)) equals the base's features
probe_clf = LogisticRegression(C=1.0, max_iter=3000).fit(pooled["train"], y["train"])
lp = [probe_clf.coef_.T.astype("float32"), probe_clf.intercept_.astype("float32")]


# %%
def fine_tune(head_weights=None, learning_rate=3e-4, optimizer=None, seed=0):
    top.set_weights(start_weights)
    models.unfreeze_top(top, len(top.layers), keep_batchnorm_frozen=True)
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(acts["train"].shape[1:])
    h = top(inputs, training=False)
    dense = keras.layers.Dense(len(CLASSES), activation="softmax", name="head", dtype="float32")
    model = keras.Model(inputs, dense(h))
    if head_weights is not None:
        dense.set_weights(head_weights)
    model.compile(optimizer or keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy")
    hist = model.fit(acts["train"], y["train"], validation_data=(acts["val"], y["val"]), epochs=FT_EPOCHS,
                     batch_size=32, verbose=0)
    score = {k: float(np.mean(np.asarray(model(acts[k])).argmax(1) == y["test"])) for k in ("test", "ood")}
    return score, hist


# %%
steps = FT_EPOCHS * int(np.ceil(len(y["train"]) / 32))
schedule = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=steps - steps // 10, alpha=0.0,
                                                  warmup_target=3e-4, warmup_steps=steps // 10)
ft_results = {"linear probe only": {k: probe_clf.score(pooled[k], y["test"]) for k in ("test", "ood")}}
ft_results["FT, random head"], h_ft = fine_tune(None)
ft_results["LP-FT"], h_lpft = fine_tune(lp)
ft_results["LP-FT, warm-up + cosine"], _ = fine_tune(lp, optimizer=keras.optimizers.Adam(schedule))

# %% [markdown]
# ## 6. Fine-tune gradually: layer-wise learning rates
#
# Lower layers hold general features (edges, textures) that need little change; upper layers and the head
# need more. Layer-wise, or *discriminative*, learning rates (Howard and Ruder 2018, ULMFiT) give each group
# its own rate. Keras has none built in: `practices.DiscriminativeAdam` is an Adam that multiplies its step,
# variable by variable, by a factor chosen from the variable's path. Here blocks 14 and 15 learn at a tenth of
# the rate, block 16 and the last convolution at a third, the head at the full rate, against one rate for all
# (the LP-FT run above).

# %%
layerwise = practices.DiscriminativeAdam(3e-4, multipliers={"block_14": 0.1, "block_15": 0.1,
                                                            "block_16": 0.3, "Conv_1": 0.3})
ft_results["LP-FT, layer-wise rates"], _ = fine_tune(lp, optimizer=layerwise)
n_test = len(y["test"])
print(f"{'':<26}{'test':>7}{'changed':>9}   (standard error about {np.sqrt(0.75 * 0.25 / n_test):.3f})")
for name, s in ft_results.items():
    print(f"{name:<26}{s['test']:>7.3f}{s['ood']:>9.3f}")
se = np.sqrt(0.75 * 0.25 / n_test)
for a, b in (("LP-FT", "FT, random head"), ("LP-FT, warm-up + cosine", "LP-FT"), ("LP-FT, layer-wise rates", "LP-FT")):
    d = {k: ft_results[a][k] - ft_results[b][k] for k in ("test", "ood")}
    words = {k: "better" if v > 2 * se else "worse" if v < -2 * se else "no clear difference" for k, v in d.items()}
    print(f"{a} vs {b}: test {d['test']:+.3f} ({words['test']}), changed {d['ood']:+.3f} ({words['ood']})")

# %% [markdown]
# What to read into it: each row is one seed on the test photos, so the cell calls a difference only beyond
# two standard errors. Kumar et al. report LP-FT's gain mostly out of distribution, with a large pretrained
# model fine-tuned in full; here a small base has only its top blocks tuned for a few epochs, and the
# constant rate shared by head and blocks is the same for both runs. Where the constant-rate runs fall below
# the linear probe alone, the rate is too high for the pretrained blocks: that is what warm-up and decay, and
# lower rates for lower layers, guard against. Check such choices on your validation split rather than trust
# them; `benchmarks/best_practices.py` repeats this comparison over seeds.

# %%
# extra code - the validation loss of fine-tuning from a random head and after a linear probe
plots.learning_curves({"FT, random head": h_ft, "LP-FT": h_lpft}, metrics=["loss"], title="fine-tuning");

# %% [markdown]
# ## 7. Speed: batch size, data pipeline, mixed precision, XLA
#
# Measured here on the CPU, on small cases. **Batch size**: bigger batches use the hardware better, up to
# memory; the forward pass of MobileNetV2 0.35 at three batch sizes:

# %%
top.set_weights(start_weights)  # undo the fine-tuning of the shared layers
x_speed = pre(x["test"][:128].astype("float32"))
for batch in (4, 32, 128):
    ips = practices.images_per_second(lambda: fmodel.predict(x_speed, batch_size=batch, verbose=0), 128, repeats=2)
    print(f"batch {batch:>3}: {ips:6.0f} images/s")

# %% [markdown]
# **Data pipeline**: decoding JPEGs costs time every epoch unless the decoded images are cached; `prefetch`
# overlaps loading with training. Two passes over 100 ants/bees photos (large JPEGs), with and without
# `cache()`:

# %%
files = data.scan_images(data.dataset_path("hymenoptera") / "train", check=False).files[:100]
for cache in (False, True):
    ds = data.make_dataset(files, None, image_size=IMAGE_SIZE, batch_size=32, cache=cache)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        for _batch in ds:
            pass
        times.append(time.perf_counter() - start)
    print(f"cache={cache!s:<5}: first pass {times[0]:.2f} s, second pass {times[1]:.2f} s")

# %% [markdown]
# **Mixed precision and XLA** pay on GPUs (float16 tensor cores; fused kernels); on a CPU they may not, so
# never switch them on for a long CPU run without timing a tiny case first, as here: one epoch of a small CNN
# on 512 images of 32 px, after a warm-up epoch. The training step is written out with `tf.function` so that
# `jit_compile=True` really compiles it with XLA: `model.compile(jit_compile=True)` quietly turns XLA off while
# deterministic ops are on, as `tlcourse.setup()` has them on a CPU.

# %%
def small_cnn_epoch_seconds(dtype="float32", jit_compile=False):
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(16, 3, activation="relu", dtype=dtype),
                          keras.layers.GlobalAveragePooling2D(dtype=dtype),
                          keras.layers.Dense(5, activation="softmax", dtype="float32")])
    optimizer, loss_fn = keras.optimizers.Adam(), keras.losses.SparseCategoricalCrossentropy()

    @tf.function(jit_compile=jit_compile)
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, m(x, training=True))
        optimizer.apply(tape.gradient(loss, m.trainable_variables), m.trainable_variables)

    xs, ys = np.random.default_rng(0).uniform(0, 1, (512, 32, 32, 3)).astype("float32"), np.arange(512) % 5
    batches = [(tf.constant(xs[i:i + 64]), tf.constant(ys[i:i + 64])) for i in range(0, 512, 64)]
    for x, y in batches:  # warm-up epoch: tracing and compiling
        train_step(x, y)
    start = time.perf_counter()
    for x, y in batches:
        train_step(x, y)
    return time.perf_counter() - start


speed = {"float32": small_cnn_epoch_seconds(), "mixed_float16": small_cnn_epoch_seconds("mixed_float16"),
         "XLA (jit_compile)": small_cnn_epoch_seconds(jit_compile=True)}
for name, s in speed.items():
    print(f"{name:<18}: {s:.3f} s per epoch ({s / speed['float32']:.1f}x float32)")

# %% [markdown]
# On a GPU, `tlcourse.setup()` turns on memory growth, `mixed_float16` on GPUs with tensor cores (compute
# capability 7.0 and up; keep the last layer in float32, as the capstone's `dtype="float32"` softmax does),
# and a `MirroredStrategy` when there are several GPUs. To train on several GPUs, build and compile the model
# inside the strategy's scope and scale the batch size with the number of replicas:
#
# ```python
# with report.strategy.scope():
#     model = build_model(...)
#     model.compile(...)
# model.fit(train_ds.batch(32 * report.strategy.num_replicas_in_sync), ...)
# ```

# %%
print("this machine:", report.precision_policy, "|", type(report.strategy).__name__,
      f"| {report.strategy.num_replicas_in_sync} replica(s)")

# %% [markdown]
# ## 8. Reproducibility
#
# `tlcourse.setup(seed=...)` seeds Python, NumPy and TensorFlow (`keras.utils.set_random_seed`) and, on a CPU,
# turns on deterministic ops (`tf.config.experimental.enable_op_determinism()`). The same seed then gives the
# same weights, bit for bit; another seed does not:

# %%
def trained_head(seed):
    keras.utils.set_random_seed(seed)
    head = keras.Sequential([keras.Input(f_train.shape[1:]), keras.layers.Dropout(0.3),
                             keras.layers.Dense(len(CLASSES), activation="softmax", dtype="float32")])
    head.compile("adam", "sparse_categorical_crossentropy")
    head.fit(f_train, y["train"], epochs=3, batch_size=32, verbose=0)
    return head.get_weights()[0]


a, b, c = trained_head(0), trained_head(0), trained_head(1)
print("same seed, identical weights:", np.array_equal(a, b), "| other seed, identical:", np.array_equal(a, c))
assert np.array_equal(a, b) and not np.array_equal(a, c)

# %% [markdown]
# What still varies: timings always; results across TensorFlow versions, CPU types and thread counts (oneDNN
# picks different kernels); GPU runs unless op determinism is on (it is off there by default, because it
# slows training); and anything that reads files in an unsorted order. Report the spread over seeds, not one
# run.

# %% [markdown]
# ## 9. Saving and shipping
#
# A classifier that takes raw pixels: a `Rescaling` layer (the MobileNets' preprocessing), the base, pooling,
# the linear-probe head. Save it as `.keras`, reload it, and check that the predictions are equal.

# %%
inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3))
h = keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs)
h = fmodel(h, training=False)  # the ImageNet MobileNetV2 0.35 with average pooling
dense = keras.layers.Dense(len(CLASSES), activation="softmax", dtype="float32")
classifier = keras.Model(inputs, dense(h))
dense.set_weights(lp)
classifier.save(OUT / "flowers.keras")
reloaded = keras.saving.load_model(OUT / "flowers.keras")
p1, p2 = classifier.predict(x["test"][:32], verbose=0), reloaded.predict(x["test"][:32], verbose=0)
print(f"saved {practices.file_size_mb(OUT / 'flowers.keras'):.1f} MB; max difference after reloading "
      f"{np.abs(p1 - p2).max():.1e}")
assert np.allclose(p1, p2, atol=1e-6)

# %% [markdown]
# For serving, `model.export` writes a TensorFlow SavedModel (TensorFlow Serving, TF.js and the TFLite converter
# read it); TFLite is for phones and small devices. Both are checked against the Keras model where they work
# here; where a converter fails, the cell says so rather than hide it.

# %%
classifier.export(str(OUT / "savedmodel"), verbose=False)
served = tf.saved_model.load(str(OUT / "savedmodel"))
p3 = served.serve(tf.constant(x["test"][:32].astype("float32"))).numpy()
print(f"SavedModel: {practices.file_size_mb(OUT / 'savedmodel'):.1f} MB, max difference {np.abs(p1 - p3).max():.1e}")
try:
    tflite = tf.lite.TFLiteConverter.from_saved_model(str(OUT / "savedmodel")).convert()
    (OUT / "flowers.tflite").write_bytes(tflite)
    interpreter = tf.lite.Interpreter(model_content=tflite)
    runner = interpreter.get_signature_runner()
    p4 = list(runner(**{runner.get_input_details().popitem()[0]: x["test"][:1].astype("float32")}).values())[0]
    print(f"TFLite: {len(tflite) / 1e6:.1f} MB, max difference on one photo {np.abs(p1[:1] - p4).max():.1e}")
except Exception as exc:  # noqa: BLE001 - report, do not hide
    print("TFLite conversion did not work here:", type(exc).__name__, str(exc).splitlines()[0][:200])

# %% [markdown]
# **Untrusted model files.** A `.keras` file can hold a `Lambda` layer, whose Python code runs when it is
# loaded: loading a stranger's file could run anything. Keras's *safe mode*, on by default, refuses such
# files. Never pass `safe_mode=False` to a file you did not make yourself.

# %%
inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3))
lambda_model = keras.Model(inputs, keras.layers.Lambda(lambda t: t / 127.5 - 1.0)(inputs))
lambda_model.save(OUT / "with_lambda.keras")
try:
    keras.saving.load_model(OUT / "with_lambda.keras")
    refused = False
except ValueError as exc:
    refused = True
    print("refused:", str(exc).split(".")[0])
assert refused

# %% [markdown]
# ### Exercise 1 (about 3 min)
#
# Make a model that computes the same as `lambda_model` (pixels in [0, 255] to [-1, 1]) without a `Lambda`
# layer, so that it loads in safe mode. The check saves and reloads it and compares its outputs.

# %%
safe_model = None  # your model
# %%
print(exercises.check_safe_model(safe_model, lambda_model))  # NOT YET until safe_model is built

# %% [markdown]
# ## 10. A checklist to take away
#
# 1. **Base**: pretrained on data like yours; measure a linear probe of two or three candidates before you
#    fine-tune anything; a bigger, better ImageNet model usually transfers better, at a cost per prediction.
# 2. **Splits**: train / validation / test, seeded and stratified; no duplicates across them; choose on
#    validation, report on test, once.
# 3. **Baseline**: a model without transfer, so you know what transfer gives.
# 4. **Feature extraction first** (cache the features), then fine-tune the top at a low rate, BatchNorm frozen,
#    head fitted first (LP-FT); warm-up and cosine decay, lower rates for lower layers.
# 5. **Small data**: augmentation that respects your classes, dropout, weight decay; early stopping with the
#    best weights restored; look at the learning curves.
# 6. **Speed**: cache and prefetch the data, the largest batch that fits; on GPUs mixed precision and XLA,
#    a distribution strategy for several.
# 7. **Reproducibility**: seeds and deterministic ops; report the spread over seeds.
# 8. **Shipping**: preprocessing inside the model, `.keras` reloaded and checked, SavedModel or TFLite for
#    serving; load files from others only in safe mode.

# %% [markdown] tags=["solution"]
# ## Solutions

# %% [markdown] tags=["solution"]
# Exercise 1: a `Rescaling` layer does `x * scale + offset` and is a registered Keras layer, so safe mode
# loads it.

# %% tags=["solution"]
inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3))
safe_model = keras.Model(inputs, keras.layers.Rescaling(1 / 127.5, offset=-1.0)(inputs))
result = exercises.check_safe_model(safe_model, lambda_model)
print(result)
assert result

# %% [markdown]
# ## Quiz
#
# Six questions on this lesson. Choose, tick or type an answer and press **Check**: the
# feedback says why it is right or wrong. Where widgets cannot be drawn (a terminal, a static page),
# the questions print as text, and `quiz.show("05_best_practices", answers=True)` prints the answers.

# %%
from tlcourse import quiz

quiz.show("05_best_practices")

# %% [markdown]
# ## Key points
#
# - Measure each practice on your data: a linear probe ranks bases in seconds, a baseline and a held-out test
#   set say what transfer gives, and small runs need their noise stated beside them.
# - ImageNet bases beat random weights by a wide margin on photos; a distant source (digits) may give nothing,
#   or less than nothing (negative transfer).
# - Regularisation and early stopping matter most with few labels; restore the best weights.
# - Fine-tune gently: head first (LP-FT), warm-up and decay, lower rates for lower layers (Keras needs a small
#   optimizer subclass for that).
# - Speed comes from the pipeline and the batch size on a CPU, from mixed precision and XLA on GPUs.
# - Save `.keras` files with the preprocessing inside, check the reload, export for serving, and load only in
#   safe mode.
#
# **Further reading**
# - Kornblith, S., Shlens, J. and Le, Q. V. (2019). Do better ImageNet models transfer better? *CVPR*.
# - Kumar, A., Raghunathan, A., Jones, R., Ma, T. and Liang, P. (2022). Fine-tuning can distort pretrained features and underperform out-of-distribution. *ICLR*.
# - Micikevicius, P. et al. (2018). Mixed precision training. *ICLR*.
# - Loshchilov, I. and Hutter, F. (2019). Decoupled weight decay regularization (AdamW). *ICLR*.
