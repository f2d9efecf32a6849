# %% [markdown]
# # 04 Domain adaptation: when the data changes
#
# A model is trained where labels are plentiful (the **source**) and used where they are not (the
# **target**), and the two distributions differ: digits written for a different scanner, photos taken in
# the dark. This lesson measures how much accuracy the shift costs and how much of it three
# unsupervised methods win back, using target images but **no target labels**.
#
# **You will learn**
# - to see a domain shift: images, pixel statistics, and the accuracy a source model loses on the target;
# - AdaBN (re-estimate BatchNormalization statistics on the target), Deep CORAL (align feature
#   covariances) and DANN (a domain classifier behind a gradient reversal layer), in Keras 3;
# - to compare them honestly: seeds and their spread, published figures, a few labelled target images,
#   and the target-trained upper bound;
# - that matching the preprocessing is itself domain adaptation, and that the same tools apply to
#   pretrained ImageNet features.
#
# **Prerequisites:** 01-03 (a Keras model, `fit`, BatchNormalization, frozen bases, features).
#
# **Terms:** [the course glossary](GLOSSARY.md).
#
# **Estimated time:** (generated from tlcourse/minutes.json)

# %%
import time
import warnings

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
import threadpoolctl
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import TSNE
from sklearn.model_selection import cross_val_score

import tlcourse
from tlcourse import adapt, claims, data, interactive, models, plots, scratch

report = tlcourse.setup(seed=42)
warnings.filterwarnings("ignore", message=".*shuffle=True.*")  # our tf.data streams shuffle themselves
threadpoolctl.threadpool_limits(1)  # scikit-learn on one thread: on a busy 2-core machine, more wait on each other

# %% [markdown]
# The quick profile trains each digits model for 5 epochs of 60 steps (32 source + 32 target images a
# step; on 2 CPU cores a step of 32 takes less than half the time of a step of 64), trains source only
# and AdaBN with five seeds (a 95% interval over three seeds is too wide to see anything: Student's t
# for two degrees of freedom is 4.3) and the slower Deep CORAL and DANN with one, and runs one direction
# (MNIST to USPS). The full profile runs `digits_epochs` epochs of 125 steps of 64 + 64, every method with every
# seed, and both directions. `benchmarks/domain_adaptation.py` runs any of these outside the notebook.

# %%
PROFILE = report.profile
QUICK = PROFILE.name == "quick"
SEEDS = list(range(max(5, PROFILE.seeds)))            # source only and AdaBN: every seed
SLOW_SEEDS = SEEDS[:1] if QUICK else SEEDS            # Deep CORAL and DANN
EPOCHS = PROFILE.digits_epochs
STEPS_PER_EPOCH = 60 if QUICK else 125
BATCH_SIZE = 32 if QUICK else 64                      # images per domain a step
CORAL_WEIGHT = 100.0                                  # chosen on target test accuracy: see section 4
DANN_COEFFICIENT = 0.1
SHOTS = 10                                            # labelled target images per class (section 6)
ADABN_IMAGES = 2000 if QUICK else None                # target images AdaBN averages over (None: all)
OTHER_DIRECTION = not QUICK                           # USPS -> MNIST (section 9)
IMAGE_SIZE = PROFILE.image_size
PHOTOS_PER_CLASS = PROFILE.max_per_class or 400
print(f"seeds {SEEDS} (Deep CORAL, DANN: {SLOW_SEEDS}); {EPOCHS} epochs x {STEPS_PER_EPOCH} steps")

# %% [markdown]
# ## 1. The shift: MNIST against USPS
#
# Both are handwritten digits, 0 to 9, in gray levels. Only MNIST's 10,000-image test file is in the
# course data; it is ordered (its first half is cleaner than its second), so we shuffle it once with a
# fixed seed: 8,000 labelled source images and 2,000 held out. USPS's training images are the
# unlabelled target; USPS's test images measure target accuracy and are never trained on.

# %%
x_mnist, y_mnist = data.load_mnist()
order = np.random.default_rng(0).permutation(len(x_mnist))
xs, ys = x_mnist[order[:8000]], y_mnist[order[:8000]]                 # labelled source
xs_test, ys_test = x_mnist[order[8000:]], y_mnist[order[8000:]]       # source held out
xt, yt = data.load_usps("train", 28)      # target: yt is used only in section 6 and for the upper bound
xt_test, yt_test = data.load_usps("test", 28)
print(f"source {xs.shape}, source test {xs_test.shape}, target {xt.shape}, target test {xt_test.shape}")

# %%
# extra code - eight digits of each domain
plots.image_grid(np.concatenate([xs[:8], xt[:8]]), np.concatenate([ys[:8], yt[:8]]), ncols=8,
                 title="MNIST (source, top) and USPS stretched to 28 px (target, bottom)");

# %% [markdown]
# The eye sees the same digits. The pixels say otherwise (the table printed below): USPS digits fill
# their frame (MNIST digits sit in a 20-px box in the middle of 28x28), are thicker, and carry more ink.

# %%
def pixel_stats(x):
    ink = x[..., 0] > 0.5
    rows, cols = ink.any(axis=2), ink.any(axis=1)
    height = rows.shape[1] - np.argmax(rows, 1) - np.argmax(rows[:, ::-1], 1)
    width = cols.shape[1] - np.argmax(cols, 1) - np.argmax(cols[:, ::-1], 1)
    return {"mean pixel": x.mean(), "ink fraction": ink.mean(), "digit height (px)": height.mean(),
            "digit width (px)": width.mean()}

stats = {"MNIST": pixel_stats(xs), "USPS": pixel_stats(xt)}
for key in stats["MNIST"]:
    print(f"{key:18s} MNIST {stats['MNIST'][key]:6.3f}   USPS {stats['USPS'][key]:6.3f}")

# %% [markdown]
# ## 2. Source only: how much the shift costs
#
# A small CNN (two 5x5 convolutions with BatchNormalization, a 128-unit feature layer: about 185k
# parameters) trained on MNIST alone, with random shifts of up to 2 px. `scratch.digits_cnn()` returns it
# as a feature extractor and a classifier, because the adaptation methods need the features in between.
# `adapt.domain_dataset` is an endless, shuffled stream of augmented batches.

# %%
def compile_and_fit(model, x, y, seed, lr=1e-3, steps=STEPS_PER_EPOCH, epochs=EPOCHS, batch_size=BATCH_SIZE):
    model.compile(optimizer=keras.optimizers.Adam(lr),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(adapt.domain_dataset(x, y, batch_size=batch_size, seed=seed),
              steps_per_epoch=steps, epochs=epochs, verbose=0)
    return model

def source_only(seed, x=xs, y=ys):
    keras.utils.set_random_seed(seed)
    feature_extractor, classifier = scratch.digits_cnn()
    return compile_and_fit(keras.Sequential([feature_extractor, classifier]), x, y, seed)

# %%
results, times, src_models = {}, {}, {}
start = time.time()
for seed in SEEDS:
    src_models[seed] = source_only(seed)
times["source only"] = (time.time() - start) / len(SEEDS)
source_acc = [adapt.accuracy(m, xs_test, ys_test) for m in src_models.values()]
results["source only"] = [adapt.accuracy(m, xt_test, yt_test) for m in src_models.values()]
print("accuracy on MNIST (source, held out):", np.round(source_acc, 3))
print("accuracy on USPS (target, test):     ", np.round(results["source only"], 3))
print(f"USPS from {min(results['source only']):.3f} to {max(results['source only']):.3f} over {len(SEEDS)} seeds; "
      f"{times['source only']:.1f} s of training per seed")
print(f"range over seeds: MNIST {np.ptp(source_acc):.3f}, USPS {np.ptp(results['source only']):.3f}")

# %% [markdown]
# Compare the two rows: how much accuracy the shift costs, and how far the USPS figure moves from one
# seed to the next against the MNIST one (the ranges printed). In the course's runs USPS moved far more:
# nothing in training looked at USPS, so which of many equally good MNIST solutions a seed lands on
# decides how well it transfers. One run of source only is not a baseline; report the seeds.
#
# ## 3. AdaBN: re-estimate BatchNormalization statistics on the target
#
# In inference mode each BatchNormalization layer subtracts the mean and divides by the standard
# deviation it saw during training: MNIST's. USPS, brighter and bigger, arrives with other statistics, so
# every layer's output is off-centre. AdaBN (Li et al. 2016) runs the unlabelled target images through
# the network once, in training mode, and keeps the per-layer means and variances it measures. No
# labels, no gradient, no weight changes, a few seconds (on 2,000 target images in the quick profile).

# %%
def copy_model(model):
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone

def with_adabn(model, x_target):
    """The model with AdaBN applied to a copy of its feature extractor; the original stays as it was."""
    feature_extractor, classifier = model.layers[:2] if isinstance(model, keras.Sequential) else (
        model.feature_extractor, model.classifier)
    subset = np.random.default_rng(0).permutation(len(x_target))[:ADABN_IMAGES]
    return keras.Sequential([adapt.adabn(copy_model(feature_extractor), x_target[subset], batch_size=500),
                             classifier])

start = time.time()
adabn_models = {seed: with_adabn(m, xt) for seed, m in src_models.items()}
times["AdaBN"] = (time.time() - start) / len(SEEDS)
results["AdaBN"] = [adapt.accuracy(m, xt_test, yt_test) for m in adabn_models.values()]
print("AdaBN on USPS:", np.round(results["AdaBN"], 3), f"({times['AdaBN']:.1f} s per model)")
adabn_gain = claims.compare(results["AdaBN"], results["source only"])
print(claims.conclusion(adabn_gain, "AdaBN", "source only", "on USPS (the shifted target)"))

# %% [markdown]
# Is that adaptation, or would new statistics help any model? The control is the same operation where
# there is nothing to adapt: re-estimate the statistics on 1,000 held-out MNIST images and test on the
# other 1,000. AdaBN's premise (Li et al. 2016) is that the statistics carry the domain; without a shift
# it should change nothing.

# %%
no_shift = {"source only": [adapt.accuracy(m, xs_test[1000:], ys_test[1000:]) for m in src_models.values()],
            "AdaBN": [adapt.accuracy(with_adabn(m, xs_test[:1000]), xs_test[1000:], ys_test[1000:])
                      for m in src_models.values()]}
adabn_control = claims.compare(no_shift["AdaBN"], no_shift["source only"])
print(claims.conclusion(adabn_control, "AdaBN", "source only", "on held-out MNIST (no shift)"))

# %% [markdown]
# Only BatchNormalization's moving statistics moved; the check below compares every weight:

# %%
before, after = src_models[SEEDS[0]], adabn_models[SEEDS[0]]
changed = [w.path for w, v in zip(before.weights, after.weights) if not np.allclose(w.numpy(), v.numpy())]
print(len(changed), "of", len(before.weights), "weights changed, e.g.", changed[:2])
assert all("moving_mean" in p or "moving_variance" in p for p in changed)

# %% [markdown]
# How strong a shift can new statistics undo? Below, the USPS images are shifted further: their pixels
# multiplied by a brightness factor, plus Gaussian noise. On a small grid of strengths the first seed's
# source-only model is measured as it is and with AdaBN re-estimated on 500 shifted training images
# (1,000 shifted test images; a few seconds in all, computed once).
#
# The two axes are not alike. This CNN's first layer is a convolution **without bias** followed by
# BatchNormalization: darkening the image by a factor b multiplies the convolution's output by b, its
# mean by b and its standard deviation by b, so statistics re-measured on the dark images divide b out
# again, exactly but for BatchNormalization's small constant epsilon (added to the variance; it starts
# to count when b is tiny). For this model with AdaBN, brightness alone is almost no shift at all, by
# construction; a constant offset would be divided out too (a valid convolution turns it into a
# constant per channel, which the mean removes). Noise is the real test: it changes the images in a way
# no re-scaling undoes.

# %%
BRIGHTNESS = [1.0, 0.7, 0.4, 0.1]                     # factor on the target's pixels
NOISE = [0.0, 0.15, 0.3]                              # standard deviation of the added noise (pixels in 0-1)

def shifted(x, brightness, noise, seed=0):
    return np.clip(brightness * x + np.random.default_rng(seed).normal(0, noise, x.shape), 0, 1).astype("float32")

start = time.time()
model0 = src_models[SEEDS[0]]
extractor = copy_model(model0.layers[0])
adapted0, extractor_weights = keras.Sequential([extractor, model0.layers[1]]), extractor.get_weights()
adapt_images = xt[np.random.default_rng(0).permutation(len(xt))[:500]]
shift_grid = {}                                       # (brightness, noise): (source only, AdaBN)
for b in BRIGHTNESS:
    for n in NOISE:
        x_test = shifted(xt_test[:1000], b, n, seed=1)
        extractor.set_weights(extractor_weights)
        adapt.adabn(extractor, shifted(adapt_images, b, n, seed=2), batch_size=500)
        shift_grid[b, n] = (adapt.accuracy(model0, x_test, yt_test[:1000]),
                            adapt.accuracy(adapted0, x_test, yt_test[:1000]))
print(f"{len(shift_grid)} shifts measured in {time.time() - start:.1f} s")
for b in BRIGHTNESS:   # noise 0: AdaBN's row should stay flat but for epsilon (see above)
    print(f"brightness {b}: source only {shift_grid[b, 0.0][0]:.3f}, AdaBN {shift_grid[b, 0.0][1]:.3f}")

# %%
# noise at full brightness, which no re-scaling undoes: AdaBN against source only, one model, 1,000 images
x_noisy = shifted(xt_test[:1000], 1.0, NOISE[-1], seed=1)
extractor.set_weights(extractor_weights)
adapt.adabn(extractor, shifted(adapt_images, 1.0, NOISE[-1], seed=2), batch_size=500)
noisy_correct = [adapt.correct(m, x_noisy, yt_test[:1000]) for m in (adapted0, model0)]
noise_gain = claims.compare_examples(*noisy_correct)  # one model each: a paired bootstrap over the test digits
print(claims.conclusion(noise_gain, "AdaBN", "source only", f"on USPS digits with noise {NOISE[-1]}"))

# %%
# extra code - move the sliders: the shifted digits, and both models' accuracy at that noise level
def draw_shift(brightness, noise):
    b = min(BRIGHTNESS, key=lambda v: abs(v - brightness))
    n = min(NOISE, key=lambda v: abs(v - noise))
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3), gridspec_kw={"width_ratios": [1, 1.3]})
    left.imshow(np.hstack(list(shifted(xt_test[:5], b, n, seed=1)[..., 0])), cmap="gray", vmin=0, vmax=1)
    left.set_title(f"target digits at brightness {b}, noise {n}", fontsize=9); left.axis("off")
    for k, name in enumerate(["source only", "AdaBN"]):
        right.plot(BRIGHTNESS, [shift_grid[v, n][k] for v in BRIGHTNESS], "o-", label=name)
        right.plot(b, shift_grid[b, n][k], "ks", ms=8, mfc="none")
    right.set_xlabel("brightness factor"); right.set_ylabel("USPS test accuracy"); right.set_ylim(0, 1)
    right.set_title(f"noise {n}", fontsize=9); right.legend(fontsize=8)
    print(f"brightness {b}, noise {n}: source only {shift_grid[b, n][0]:.3f}, AdaBN {shift_grid[b, n][1]:.3f}")

interactive.explore(draw_shift, {"brightness": interactive.Slider(0.1, 1.0, 0.3, default=0.4),
                                 "noise": interactive.Slider(0.0, 0.3, 0.15, default=0.15)},
                    title="a stronger shift: source only against AdaBN")

# %% [markdown]
# Try it in JupyterLab: darken the digits with no noise, then add noise at full brightness, then both.
# Darkening costs the source-only model much (its statistics are MNIST's), and AdaBN's row stays nearly
# flat, as the arithmetic above says it must: that is no evidence of robustness, only of the
# bias-free convolution. Noise is the shift that tells; the printed verdict says what new statistics won
# back from it in this run (one model and 1,000 test images: the interval is over the test images).

# %% [markdown]
# ## 4. Deep CORAL: align the feature covariances
#
# Deep CORAL (Sun & Saenko 2016) trains on source labels as usual and adds a second loss: the distance
# between the covariance matrices of source and target features, `||C_s - C_t||^2 / (4 d^2)`
# (`adapt.coral_loss`). Each training step sees a source batch and a target batch; they go through the
# network as **separate** batches, so BatchNormalization normalises each domain with its own statistics,
# as each will be normalised alone at test time. Does it matter? `python benchmarks/domain_adaptation.py
# --ablations --steps 60 --batch 32` trains both ways on this schedule, seeds 0-2: separate batches gave
# 0.829 (0.815-0.854) against 0.788 (0.705-0.854) for one concatenated batch with Deep CORAL, and 0.839
# against 0.829 with DANN, no difference beyond the seeds' spread. `adapt.DeepCORAL` is a Keras model
# with its own `train_step`; `fit` gets `((x_source, x_target), y_source)` batches.
#
# Honest caveat: the weight 100 (and DANN's coefficient 0.1 below) were chosen by looking at USPS test
# accuracy, which a real project cannot do; those rows are optimistic. AdaBN has nothing to choose.

# %%
def deep_coral(seed, x_source=xs, y_source=ys, x_target=xt):
    keras.utils.set_random_seed(seed)
    model = adapt.DeepCORAL(*scratch.digits_cnn(), coral_weight=CORAL_WEIGHT)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(adapt.domain_dataset(x_source, y_source, x_target, batch_size=BATCH_SIZE, seed=seed),
                        steps_per_epoch=STEPS_PER_EPOCH, epochs=EPOCHS, verbose=0)
    return model, history

# %%
start = time.time()
coral_runs = {seed: deep_coral(seed) for seed in SLOW_SEEDS}
times["Deep CORAL"] = (time.time() - start) / len(SLOW_SEEDS)
results["Deep CORAL"] = [adapt.accuracy(m, xt_test, yt_test) for m, _ in coral_runs.values()]
results["Deep CORAL + AdaBN"] = [adapt.accuracy(with_adabn(m, xt), xt_test, yt_test) for m, _ in coral_runs.values()]
history = coral_runs[SLOW_SEEDS[0]][1].history
print("CORAL loss by epoch:", np.round(history["coral_loss"], 5))
print("Deep CORAL on USPS:", np.round(results["Deep CORAL"], 3), "+ AdaBN:", np.round(results["Deep CORAL + AdaBN"], 3),
      f"({times['Deep CORAL']:.1f} s per model)")

# %% [markdown]
# The moving statistics of a model trained on both domains are a mix of the two; AdaBN after training
# replaces them with the target's alone, which is why the "+ AdaBN" row is worth measuring.
#
# ## 5. DANN: a domain classifier the features learn to fool
#
# DANN (Ganin et al. 2016) adds a **domain classifier** that learns to tell source features from target
# features. Between it and the feature extractor sits a **gradient reversal layer**: the identity on
# the way forward, a multiplication by `-lambda` on the way back. The domain classifier gets better at
# telling the domains apart; the feature extractor receives the opposite gradient and learns features
# that do not reveal their domain, while the label classifier keeps them useful for the digits. `lambda`
# ramps from 0 to `DANN_COEFFICIENT` with the paper's schedule `2 / (1 + exp(-10 p)) - 1`, `p` the
# fraction of training done. The paper ramps to 1; the benchmark above (`--ablations`) measured 0.808
# (0.794-0.818) for that against 0.839 (0.811-0.863) for 0.1 over seeds 0-2: lower, within the spread.

# %%
class DomainAccuracy(keras.callbacks.Callback):
    """Every `every` steps: the domain classifier's accuracy on held-out source and target images, with the
    features computed two ways: each domain under its own batch statistics (as the classifier saw them in
    training) and under the moving statistics (as the model is used at test time)."""
    def __init__(self, x_source, x_target, every=10):
        super().__init__()
        self.x_source, self.x_target = x_source, x_target
        self.d = np.r_[np.ones(len(x_source)), np.zeros(len(x_target))]
        self.every, self.steps, self.acc = every, [], {"own statistics": [], "moving statistics": []}
    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.optimizer.iterations.numpy())
        if step % self.every == 0:
            fe, x = self.model.feature_extractor, np.concatenate([self.x_source, self.x_target])
            own = np.concatenate([adapt.with_own_statistics(fe, self.x_source), adapt.with_own_statistics(fe, self.x_target)])
            self.steps.append(step)
            for mode, f in (("own statistics", own), ("moving statistics", fe(x, training=False))):
                logits = np.asarray(self.model.domain_classifier(f))[:, 0]
                self.acc[mode].append(float(np.mean((logits > 0) == self.d)))

# %%
def dann(seed, x_source=xs, y_source=ys, x_target=xt, callbacks=()):
    keras.utils.set_random_seed(seed)
    domain_classifier = keras.Sequential([keras.Input((128,)), keras.layers.Dense(128, activation="relu"),
                                          keras.layers.Dense(1)], name="domain_classifier")
    model = adapt.DANN(*scratch.digits_cnn(), domain_classifier, total_steps=EPOCHS * STEPS_PER_EPOCH,
                       coefficient=DANN_COEFFICIENT)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(adapt.domain_dataset(x_source, y_source, x_target, batch_size=BATCH_SIZE, seed=seed),
                        steps_per_epoch=STEPS_PER_EPOCH, epochs=EPOCHS, verbose=0, callbacks=list(callbacks))
    return model, history

start = time.time()
domain_log = DomainAccuracy(xs_test[:300], xt_test[:300], every=20)
dann_runs = {seed: dann(seed, callbacks=[domain_log] if seed == SLOW_SEEDS[0] else []) for seed in SLOW_SEEDS}
times["DANN"] = (time.time() - start) / len(SLOW_SEEDS)
results["DANN"] = [adapt.accuracy(m, xt_test, yt_test) for m, _ in dann_runs.values()]
print("DANN on USPS:", np.round(results["DANN"], 3), f"({times['DANN']:.1f} s per model)")

# %% [markdown]
# The domain classifier's accuracy on held-out images is the alignment made visible. It is read in two
# ways, because BatchNormalization makes them differ. In training, the source batch and the target batch
# go through the network separately, so each is normalised with **its own** batch statistics: that is
# what the domain classifier saw and what the reversed gradient shaped (`adapt.with_own_statistics`
# computes features that way without touching the moving statistics). At test time the network uses its
# **moving** statistics, an average over both domains' batches: features the classifier never saw.
#
# While lambda is still near 0 the domain classifier learns to tell the domains apart; as lambda ramps up,
# the feature extractor pushes back and the accuracy falls from its peak toward 0.5 (chance). How far it
# falls, in each mode, is printed below the plot: with a coefficient of 0.1 the feature extractor is
# pushed only gently, so do not expect chance.

# %%
# extra code - the domain classifier's held-out accuracy and lambda during training
progress = np.array(domain_log.steps) / (EPOCHS * STEPS_PER_EPOCH)
fig, ax = plt.subplots(figsize=(5, 3))
for mode, acc in domain_log.acc.items():
    ax.plot(domain_log.steps, acc, "o-", ms=3, label=f"domain accuracy, {mode} (held out)")
    peak = int(np.argmax(acc))
    print(f"{mode:17s}: peak {acc[peak]:.3f} at step {domain_log.steps[peak]}, final {np.mean(acc[-3:]):.3f} "
          "(mean of the last three)")
ax.plot(domain_log.steps, adapt.dann_schedule(progress), "--", label="lambda / coefficient")
ax.axhline(0.5, color="gray", ls=":", label="chance")
ax.set_xlabel("training step"); ax.set_ylim(0, 1.05); ax.legend(fontsize=7, loc="lower right");

# %%
dann_adabn = {seed: with_adabn(m, xt) for seed, (m, _) in dann_runs.items()}
results["DANN + AdaBN"] = [adapt.accuracy(m, xt_test, yt_test) for m in dann_adabn.values()]
print("DANN + AdaBN on USPS:", np.round(results["DANN + AdaBN"], 3))

# %% [markdown]
# ## 6. The baselines above: a few labels, and all of them
#
# Unsupervised adaptation should be compared with what a few labels buy. Here: each seed's source-only
# model (the first three), fine-tuned on `SHOTS` labelled USPS training images per class (100 images,
# drawn with the same seed), with a lower learning rate. And the upper bound: the same CNN trained on all 7,291 USPS training
# labels (one seed: it is the ceiling, not a method to compare).

# %%
FEW = f"{SHOTS} labelled / class"
start = time.time()
results[FEW] = []
for seed in SEEDS[:3]:   # three seeds: the few-label baseline is slower than AdaBN and far from it
    shots = data.few_shot(yt, SHOTS, seed=seed)
    keras.utils.set_random_seed(seed)
    few = compile_and_fit(copy_model(src_models[seed]), xt[shots], yt[shots], seed=seed, lr=3e-4,
                          steps=60, epochs=1, batch_size=32)
    results[FEW].append(adapt.accuracy(few, xt_test, yt_test))
times[FEW] = (time.time() - start) / len(results[FEW])
start = time.time()
target_model = source_only(0, xt, yt)
times["target-trained"] = time.time() - start
results["target-trained"] = [adapt.accuracy(target_model, xt_test, yt_test)]
print(f"{FEW}:", np.round(results[FEW], 3), f"target-trained: {results['target-trained'][0]:.3f}")

# %% [markdown]
# ## 7. All methods side by side, with the published figures
#
# The black ticks are the figures Tzeng et al. (2017, *Adversarial Discriminative Domain Adaptation*,
# Table 2) report for a LeNet on MNIST to USPS: source only 0.752, DANN 0.771, and their ADDA 0.894.
# Their protocol differs (2,000 MNIST and 1,800 USPS training images, another network, another
# schedule), so compare the gains, not the decimals. Where our source-only row is below theirs, two
# reasons are measured in this notebook: a short schedule that leaves it very seed-dependent (section 2),
# and USPS stretched to fill the frame (section 9).

# %%
PUBLISHED = {"source only": 0.752, "DANN": 0.771, "ADDA (not run here)": 0.894}
print("| method | USPS test accuracy, mean | min - max | seeds | seconds per run | published |")
print("|---|---|---|---|---|---|")
for name, accs in results.items():
    pub = PUBLISHED.get(name, "")
    print(f"| {name} | {np.mean(accs):.3f} | {min(accs):.3f} - {max(accs):.3f} | {len(accs)} "
          f"| {times.get(name, times.get(name.split(' +')[0], 0)):.1f} | {pub} |")
print(f"| ADDA (not run here) | | | | | {PUBLISHED['ADDA (not run here)']} |")

# %%
# extra code - the bar chart: mean over seeds, bars from min to max, dots per seed, black ticks published
plots.bar_comparison(results, reference=PUBLISHED, ylabel="USPS test accuracy",
                     title=f"MNIST -> USPS, {EPOCHS} x {STEPS_PER_EPOCH} steps");

# %%
# the first seed's models, to compare single runs over the test images (a paired bootstrap)
first = {"source only": src_models[0], "AdaBN": adabn_models[0], "Deep CORAL": coral_runs[0][0],
         "Deep CORAL + AdaBN": with_adabn(coral_runs[0][0], xt), "DANN": dann_runs[0][0], "DANN + AdaBN": dann_adabn[0]}
first_correct = {name: adapt.correct(m, xt_test, yt_test) for name, m in first.items()}

def against(name, other):
    """claims.compare of two rows of `results`: over seeds where both have several, else over test images."""
    n = min(len(results[name]), len(results[other]))   # the seeds both rows ran
    a, b = results[name][:n], results[other][:n]
    if n > 1:
        return claims.compare(a, b)
    return claims.compare_examples(first_correct[name], first_correct[other])

# %%
for name in results:
    if name not in ("source only", "target-trained"):
        print(claims.conclusion(against(name, "source only"), name, "source only", "on USPS"))
for name in ["Deep CORAL", "Deep CORAL + AdaBN", "DANN", "DANN + AdaBN", FEW]:
    print(claims.conclusion(against(name, "AdaBN"), name, "AdaBN alone", "on USPS"))
ceiling = results["target-trained"][0] - np.mean(results["source only"])
print(f"AdaBN closed {np.mean(results['AdaBN']) - np.mean(results['source only']):.3f} of the "
      f"{ceiling:.3f} between source only and the target-trained model; seconds per run: "
      + ", ".join(f"{k} {v:.1f}" for k, v in times.items()))

# %% [markdown]
# What to read from it: the verdicts printed above, each with its interval. Over seeds (source only,
# AdaBN, a few labels) the interval is the seeds' spread; for the methods the quick profile runs once
# (Deep CORAL, DANN) it is the spread over the 2,007 test digits of one run, which says nothing of how
# another seed would land: with source only moving by many points between seeds, one run of a trained
# method cannot be ranked against AdaBN. In the course's runs AdaBN, which trains nothing, won back most
# of the gap; Deep CORAL and DANN each cost a full training run with both domains (their seconds are
# printed) and a weight chosen here on the test set; and a hundred labelled target images beat the
# unsupervised methods. When labelling a few examples is possible, do it.

# %% [markdown]
# ## 8. See it: features before and after adaptation
#
# A 2-D t-SNE map of 128-d features, MNIST in blue, USPS in orange. Before adaptation the two domains
# form separate clouds; after, they overlap. A second, sharper measure: a logistic regression trained to
# tell source features from target features (cross-validated). Its accuracy near 1.0 means the domains
# are easy to separate; near 0.5, the features no longer say which domain they come from.

# %%
def features(model, x):
    extractor = model.layers[0] if isinstance(model, keras.Sequential) else model.feature_extractor
    return np.concatenate([np.asarray(extractor(x[i:i + 500], training=False)) for i in range(0, len(x), 500)])

def domain_probe(f_source, f_target):
    f, d = np.concatenate([f_source, f_target]), np.r_[np.zeros(len(f_source)), np.ones(len(f_target))]
    return cross_val_score(LogisticRegression(max_iter=300), f, d, cv=3).mean()

# (source features, target features) of 1,000 held-out images each, first seed
xs_p, xt_p, src0, dann0 = xs_test[:1000], xt_test[:1000], src_models[0], dann_runs[0][0]
probe_features = {
    "source only": (features(src0, xs_p), features(src0, xt_p)),
    "AdaBN": (features(src0, xs_p), features(adabn_models[0], xt_p)),
    "DANN": (features(dann0, xs_p), features(dann0, xt_p)),                        # moving statistics
    "DANN, own statistics": tuple(adapt.with_own_statistics(dann0.feature_extractor, x) for x in (xs_p, xt_p)),
    "DANN + AdaBN": (features(dann0, xs_p), features(dann_adabn[0], xt_p))}
probe = {name: domain_probe(*pair) for name, pair in probe_features.items()}
print({k: round(v, 3) for k, v in probe.items()})

# %% [markdown]
# With AdaBN each domain is normalised with its own statistics: source images with the source model's,
# target images with the re-estimated ones. That is how AdaBN is used, so that is how its features are
# compared. "DANN" reads DANN's features as the model is used at test time (moving statistics);
# "DANN, own statistics" reads them as its domain classifier saw them in training, each domain
# normalised with its own batch statistics.
#
# DANN teaches a caution: whether features look "aligned" depends on the BatchNormalization mode they are
# read in. Its domain classifier was trained on features of the first kind only (own statistics), so
# its accuracy on test-time features (section 5's second curve) says little: it can sit near chance
# while a fresh logistic regression on the same test-time features tells the domains apart. Compare
# like with like, each judge in the mode the features are used in, and read the printed probes: in the
# course's runs DANN's features were hard to separate under their own statistics and easy under the
# moving ones, which is one reason AdaBN after DANN ("DANN + AdaBN") is worth measuring. Fooling one
# adversary is not the same as making the distributions equal; the label classifier only needs the
# features aligned where the classes are.

# %%
# extra code - t-SNE maps of 200 source and 200 target features, before and after
fig, axes = plt.subplots(1, 4, figsize=(13, 3.5))
for ax, name in zip(axes, ["source only", "AdaBN", "DANN", "DANN, own statistics"]):
    f = np.concatenate([probe_features[name][0][:200], probe_features[name][1][:200]])
    xy = TSNE(2, init="pca", perplexity=30, random_state=0).fit_transform(f)
    ax.scatter(*xy[:200].T, s=4, label="MNIST"); ax.scatter(*xy[200:].T, s=4, label="USPS")
    ax.set_title(f"{name}\ndomain probe {probe[name]:.2f}", fontsize=9); ax.set_xticks([]); ax.set_yticks([])
axes[0].legend(fontsize=8, markerscale=3);

# %% [markdown]
# ## 9. Matching the preprocessing is domain adaptation too
#
# Part of this shift is our own doing: stretching USPS's 16x16 digits to 28x28 makes them fill the frame,
# while MNIST digits sit in a 20-px box. `data.load_usps(..., fit="box")` resizes them to 20x20 and pads,
# the way MNIST was made. The source-only models need no retraining, just the same test images prepared
# the source's way:

# %%
xt_box, _ = data.load_usps("train", 28, fit="box")
xt_test_box, _ = data.load_usps("test", 28, fit="box")
results_box = {"source only": [adapt.accuracy(m, xt_test_box, yt_test) for m in src_models.values()],
               "AdaBN": [adapt.accuracy(with_adabn(m, xt_box), xt_test_box, yt_test)
                         for m in src_models.values()]}
for name, accs in results_box.items():
    print(f"USPS in a 20-px box, {name:12s} {np.mean(accs):.3f} (stretched: {np.mean(results[name]):.3f})")
    print(claims.conclusion(claims.compare(accs, results[name]), f"{name} on boxed USPS", "on stretched USPS"))

# %% [markdown]
# Knowing how each domain was made, and undoing the difference, is the cheapest adaptation there is; the
# printed verdicts say what it won in this run, and what AdaBN added on top of it. Look at the data before reaching for an algorithm.
#
# The other direction, USPS (7,291 labelled) to MNIST, runs in the full profile (and in
# `benchmarks/domain_adaptation.py --directions usps2mnist`); the quick profile skips it for time.

# %%
if OTHER_DIRECTION:
    usps_to_mnist = {"source only": [], "AdaBN": [], "Deep CORAL + AdaBN": [], "DANN + AdaBN": []}
    for seed in SEEDS:
        m = source_only(seed, xt, yt)
        usps_to_mnist["source only"].append(adapt.accuracy(m, xs_test, ys_test))
        usps_to_mnist["AdaBN"].append(adapt.accuracy(with_adabn(m, xs), xs_test, ys_test))
        for name, method in (("Deep CORAL + AdaBN", deep_coral), ("DANN + AdaBN", dann)):
            m, _ = method(seed, x_source=xt, y_source=yt, x_target=xs)
            usps_to_mnist[name].append(adapt.accuracy(with_adabn(m, xs), xs_test, ys_test))
    for name, accs in usps_to_mnist.items():
        print(f"USPS -> MNIST {name:20s} {np.mean(accs):.3f} ({min(accs):.3f} - {max(accs):.3f})")
    print("published (ADDA, Table 2): source only 0.571, DANN 0.730, ADDA 0.901")
else:
    print("USPS -> MNIST: skipped in the quick profile (set TLCOURSE_PROFILE=full)")

# %% [markdown]
# ## 10. The same tools on pretrained ImageNet features: flowers in low light
#
# A second shift, on photos: the source is flower photos as they are; the target is other flower photos
# taken "at night": darker (35% of the light) and with sensor noise. The model is the frozen ImageNet
# MobileNetV2 of lesson 02 with a logistic regression on its pooled features. Half of the photos (per
# class) are the labelled source; the target half is split again: unlabelled images to adapt on, and
# test images to measure.

# %%
flowers = data.scan_images(data.dataset_path("flowers"))
rng = np.random.default_rng(0)
pick = np.concatenate([rng.choice(np.flatnonzero(flowers.labels == c), PHOTOS_PER_CLASS, replace=False)
                       for c in range(len(flowers.class_names))])
rng.shuffle(pick)
photos = data.load_images([flowers.files[i] for i in pick], image_size=IMAGE_SIZE).astype("float32")
labels = flowers.labels[pick]
half = len(pick) // 2
three_quarters = half + half // 2
src_idx, tgt_adapt_idx, tgt_test_idx = np.arange(half), np.arange(half, three_quarters), np.arange(three_quarters, len(pick))

def low_light(x, seed=0):
    noise = np.random.default_rng(seed).normal(0, 12, x.shape)
    return np.clip(0.35 * x + noise, 0, 255).astype("float32")

night = low_light(photos)
print(f"source {len(src_idx)} photos, target {len(tgt_adapt_idx)} to adapt on + {len(tgt_test_idx)} to test")

# %%
# extra code - the same photos by day and by night
show = tgt_test_idx[:6]
plots.image_grid(np.concatenate([photos[show], night[show]]).astype("uint8"), np.r_[labels[show], labels[show]],
                 class_names=flowers.class_names, ncols=6, title="source style (top), target style (bottom)");

# %% [markdown]
# AdaBN on a pretrained base: its BatchNormalization layers hold ImageNet's statistics. We re-estimate
# them on the source photos to compute source features, and on the unlabelled target photos to compute
# target features, so that each domain is normalised with its own statistics; the logistic regression
# is trained on source features only. `adapt.adabn` switches the frozen BN layers on for the pass and
# freezes them again. CORAL on fixed features is the original, training-free form (Sun et al. 2016,
# *Return of frustratingly easy domain adaptation*): whiten the source features, re-colour them with the
# target covariance, train on them.

# %%
base = models.load_base(PROFILE.base_model, alpha=PROFILE.base_alpha, input_size=IMAGE_SIZE, pooling="avg")
base.trainable = False
preprocess = models.preprocess_input(PROFILE.base_model)
imagenet_weights = base.get_weights()

def photo_features(x, adapt_on=None):
    base.set_weights(imagenet_weights)
    if adapt_on is not None:
        adapt.adabn(base, preprocess(adapt_on.copy()), batch_size=125)
    f = base.predict(preprocess(x.copy()), batch_size=64, verbose=0)
    base.set_weights(imagenet_weights)
    return f

start = time.time()
f_src, f_day_test = photo_features(photos[src_idx]), photo_features(photos[tgt_test_idx])
f_tgt, f_tgt_test = photo_features(night[tgt_adapt_idx]), photo_features(night[tgt_test_idx])
f_src_bn = photo_features(photos[src_idx], adapt_on=photos[src_idx])
f_tgt_test_bn = photo_features(night[tgt_test_idx], adapt_on=night[tgt_adapt_idx])
f_day_test_bn = photo_features(photos[tgt_test_idx], adapt_on=photos[tgt_adapt_idx])   # the no-shift control
print(f"features and AdaBN passes: {time.time() - start:.1f} s")

# %%
def probe_correct(f_train, y_train, f_test, y_test):
    """Which test photos a logistic regression trained on (f_train, y_train) gets right."""
    return LogisticRegression(max_iter=2000).fit(f_train, y_train).predict(f_test) == y_test

y_src, y_adapt, y_test = labels[src_idx], labels[tgt_adapt_idx], labels[tgt_test_idx]
photo_correct = {
    "source style (no shift)": probe_correct(f_src, y_src, f_day_test, y_test),
    "source only": probe_correct(f_src, y_src, f_tgt_test, y_test),
    "AdaBN": probe_correct(f_src_bn, y_src, f_tgt_test_bn, y_test),
    "CORAL": probe_correct(adapt.coral_align(f_src, f_tgt, eps=1.0), y_src, f_tgt_test, y_test),
    "target-trained": probe_correct(f_tgt, y_adapt, f_tgt_test, y_test),
    "AdaBN, no shift": probe_correct(f_src_bn, y_src, f_day_test_bn, y_test),
}
photo_results = {name: correct.mean() for name, correct in photo_correct.items()}
for name, acc in photo_results.items():
    print(f"{name:24s} {acc:.3f}")

# %%
# extra code - the photo results as bars
plots.bar_comparison(photo_results, ylabel="test accuracy on night photos", title="flowers: day -> night");

# %%
# each gain, with a paired bootstrap over the test photos (one split: its interval is over the photos)
def photo_compare(a, b):
    return claims.compare_examples(photo_correct[a], photo_correct[b])

night_cost = photo_compare("source style (no shift)", "source only")
photo_gain = {k: photo_compare(k, "source only") for k in ("AdaBN", "CORAL")}
photo_control = photo_compare("AdaBN, no shift", "source style (no shift)")
print(claims.conclusion(night_cost, "day photos", "night photos", "for the day-trained head"))
for k, c in photo_gain.items():
    print(claims.conclusion(c, k, "source only", "on night photos"))
print(claims.conclusion(photo_control, "AdaBN", "source only", "on day photos (no shift)"))

# %% [markdown]
# The same two ideas apply unchanged to a pretrained ImageNet model, and the printed verdicts say how
# much they won back here, without a single target label, and what AdaBN does where there is no shift.
# Be plain about what that rests on: one split and under 200 test photos in the quick profile (the full
# profile uses 400 photos per class), so the interval is wide, and the bootstrap does not cover another
# draw of the split or of the noise.
#
# ## Exercises
#
# ### Exercise 1 (about 5 min)
# Write the CORAL loss yourself with NumPy: `||C_s - C_t||_F^2 / (4 d^2)`, where `C` is the covariance of
# each domain's features (`(n, d)` arrays; centre on the mean, divide by `n - 1`) and `d` their width.

# %%
from tlcourse_exercises import domain_adaptation as ex


def my_coral(source, target):
    ...  # your code: return a float

print(ex.check_coral(my_coral))

# %% [markdown]
# ### Exercise 2 (about 5 min)
# Write a gradient reversal function with coefficient 0.5: the identity on the way forward, the gradient
# times -0.5 on the way back. Hint: `tf.custom_gradient` lets a function return its value and the function
# that computes its gradient.

# %%
def my_reversal(x):
    ...  # your code

print(ex.check_reversal(my_reversal))

# %% [markdown]
# ### Exercise 3 (about 10 min)
# AdaBN by hand, and what it wins back. Copy the first seed's source-only model into `adapted` with
# `copy_model(src_models[0])` (the lesson's model stays as it was), then walk 2,000 target training images
# (`xt[:2000]`) through its feature extractor (`adapted.layers[0]`) one layer at a time, in inference mode. Before
# each BatchNormalization layer runs, set its `moving_mean` and `moving_variance` (with `.assign(...)`) to the mean
# and the variance of its input over every axis but the last (the channels), so that the layers after it see the
# images normalised the target's way. No labels, no training. Then measure `src_models[0]` and `adapted` on the
# USPS test images (`adapt.accuracy`): how much of the gap to the target-trained model did new statistics close?

# %%
adapted = None  # copy_model(src_models[0]), its statistics re-measured on xt[:2000]

print(ex.check_adabn(adapted, src_models[0], xt, xs, xt_test, yt_test))

# %% [markdown] tags=["solution"]
# ### Solutions

# %% tags=["solution"]
def my_coral(source, target):
    def cov(f):
        centred = f - f.mean(axis=0)
        return centred.T @ centred / (len(f) - 1)
    d = source.shape[1]
    return float(np.sum((cov(source) - cov(target)) ** 2) / (4 * d * d))

result = ex.check_coral(my_coral)
print(result)
assert result

# %% tags=["solution"]
@tf.custom_gradient
def my_reversal(x):
    def grad(dy):
        return -0.5 * dy
    return tf.identity(x), grad

result = ex.check_reversal(my_reversal)
print(result)
assert result

# %% tags=["solution"]
adapted = copy_model(src_models[0])
h = xt[:2000]
for layer in adapted.layers[0].layers:              # the feature extractor's layers, in order
    if isinstance(layer, keras.layers.BatchNormalization):
        all_but_channels = tuple(range(h.ndim - 1))
        layer.moving_mean.assign(h.mean(axis=all_but_channels))
        layer.moving_variance.assign(h.var(axis=all_but_channels))
    h = np.asarray(layer(h, training=False))        # what the next layer sees, normalised the target's way
acc_source, acc_by_hand = (adapt.accuracy(m, xt_test, yt_test) for m in (src_models[0], adapted))
acc_target = results["target-trained"][0]
print(f"USPS test accuracy: source only {acc_source:.3f}, AdaBN by hand {acc_by_hand:.3f}, target-trained "
      f"{acc_target:.3f}: {(acc_by_hand - acc_source) / (acc_target - acc_source):.0%} of the gap closed")
result = ex.check_adabn(adapted, src_models[0], xt, xs, xt_test, yt_test)
print(result)
assert result

# %% [markdown]
# ## Quiz
#
# Six questions on this lesson. Choose, tick or type an answer and press **Check**: the
# feedback says why it is right or wrong. Where widgets cannot be drawn (a terminal, a static page),
# the questions print as text, and `quiz.show("04_domain_adaptation", answers=True)` prints the answers.

# %%
from tlcourse_exercises import quiz

quiz.show("04_domain_adaptation")

# %% [markdown]
# ## Key points
#
# - A domain shift can cost a model much of its accuracy on data that looks the same to us; measure it
#   on held-out target data, and over seeds: source-only transfer from MNIST to USPS moves far more from
#   seed to seed than source accuracy does (section 2). Three seeds give a 95% interval too wide to see
#   much; use five or more where runs are cheap.
# - AdaBN re-estimates BatchNormalization statistics on unlabelled target data in a second. Judge it
#   as a controlled pair: on the shifted target against on unshifted held-out source, where it has
#   nothing to adapt (section 3; the printed verdicts say what this run found).
# - Know your model before reading a robustness test: a bias-free convolution followed by
#   BatchNormalization divides out a change of brightness once the statistics are re-measured, so AdaBN
#   "undoing" darkness is arithmetic, not evidence; noise is the test that tells.
# - Deep CORAL and DANN train with both domains, cost a full training run and have weights to choose,
#   which needs labelled target data to do honestly. DANN's domain classifier sees features normalised
#   per domain; read its accuracy, and any probe, in that mode and in the test-time mode (section 5, 8).
# - Compare with the cheap alternatives: matching the preprocessing (section 9), and a few labelled target
#   images. The target-trained model is the ceiling.
#
# **Further reading**
# - Li, Y., Wang, N., Shi, J., Liu, J. and Hou, X. (2016). Revisiting batch normalization for practical domain adaptation (AdaBN). arXiv:1603.04779.
# - Sun, B. and Saenko, K. (2016). Deep CORAL: Correlation alignment for deep domain adaptation. *ECCV Workshops*.
# - Ganin, Y. et al. (2016). Domain-adversarial training of neural networks. *Journal of Machine Learning Research* 17.
# - Tzeng, E., Hoffman, J., Saenko, K. and Darrell, T. (2017). Adversarial discriminative domain adaptation. *CVPR*.
