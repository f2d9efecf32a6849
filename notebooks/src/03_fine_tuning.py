# %% [markdown]
# # 03 Fine-tuning a pretrained base
#
# Feature extraction (02) keeps the pretrained base frozen and trains a classifier on its features. Fine-tuning
# goes further: the base's own weights are trained too, at a learning rate low enough to keep most of what
# ImageNet taught it. Whether that pays depends on the target. This lesson runs one recipe on two targets: MNIST
# digits, far from ImageNet's photos, and flower photos, close to them, and measures each piece of advice in a
# condition where it should matter and in one where it should not.
#
# **You will learn**
# - the recipe: a linear probe first (feature extraction), then the whole base with BatchNormalization frozen, at
#   a low rate (LP-FT);
# - when fine-tuning beats feature extraction (a target far from the source) and when it does not (a near one),
#   each with its effect and a 95% interval over seeds;
# - what a high learning rate and a random head do to the pretrained weights, measured, and what gradual
#   unfreezing and the batch size are said to do;
# - the pitfalls, measured: forgetting to recompile, and what `training=False` does not do to BatchNormalization;
# - checkpoints that let an interrupted run resume.
#
# **Prerequisites:** 01_what_is_transfer_learning and 02_feature_extraction.
#
# **Terms:** [the course glossary](GLOSSARY.md).
#
# **Estimated time:** (generated from tlcourse/minutes.json)

# %%
import time
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np

import tlcourse
from tlcourse import claims, data, interactive, models, training
from tlcourse_exercises import fine_tuning as exercises

report = tlcourse.setup(seed=42)

# %% [markdown]
# Small images keep the whole base trainable on a CPU: digits at 48 px, flowers at 64 px in the quick profile.
# Every comparison runs over the profile's seeds (a seed draws the labelled images and orders the batches) and
# pairs the two arms seed by seed.

# %%
PROFILE = report.profile
QUICK = PROFILE.name == "quick"
DIGIT_SIZE, FLOWER_SIZE = (48, 64) if QUICK else (64, 128)
LABELS = 200  # labelled images a class for training (and 20 more for validation)
FEW = 20  # the few-labels case of sections 4-5
EPOCHS = 4 if QUICK else 8  # fine-tuning epochs
SEEDS = tuple(range(3 if QUICK else 5))
HEAD_LR, FT_LR = 3e-3, 3e-4  # the rate that trains a new head, and fine-tuning's, 10x lower
BATCH = 32
N_TEST = {"digits": 100, "flowers": 100}  # test images a class, fixed for every seed
OUT = Path("outputs/03_fine_tuning")
OUT.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. Two targets: one far from ImageNet, one near
#
# **Digits** (the 10,000 MNIST test digits; the file is ordered, so it is shuffled once) are grey strokes on black:
# nothing like ImageNet's photos; 02 found that a middle layer of the base separates them better than the last.
# **Flowers** are colour photos of natural objects, the kind ImageNet is made of. Both become RGB images with
# pixels in 0-255. A fixed test set for each; the labelled images of each seed come from the rest.

# %%
x_mnist, y_mnist = data.load_mnist(size=DIGIT_SIZE)
order = np.random.default_rng(0).permutation(len(y_mnist))
x_digits = np.repeat(np.rint(x_mnist[order] * 255), 3, axis=-1).astype("uint8")  # grey to RGB, 0-255
flower_folder = data.scan_images(data.dataset_path("flowers"), check=False)
pick = data.few_shot(flower_folder.labels, LABELS + 20 + N_TEST["flowers"], seed=0)  # decode only these
x_flowers = data.load_images([flower_folder.files[i] for i in pick], image_size=FLOWER_SIZE)
targets = {"digits": (x_digits, y_mnist[order]), "flowers": (x_flowers, flower_folder.labels[pick])}
split = {}
for name, (x, y) in targets.items():
    test = data.few_shot(y, N_TEST[name], seed=0)
    split[name] = {"test": test, "pool": np.setdiff1d(np.arange(len(y)), test)}
    print(f"{name}: {x.shape[1:]} images, {len(np.unique(y))} classes, {len(test)} test, "
          f"{len(split[name]['pool'])} to draw labelled images from")

# %%
def labelled(target, seed, k=LABELS):
    """k training and 20 validation images a class, drawn by the seed from the target's pool."""
    y = targets[target][1]
    chosen = data.few_shot(y, k + 20, seed=seed, indices=split[target]["pool"])
    train = data.few_shot(y, k, seed=seed, indices=chosen)
    return train, np.setdiff1d(chosen, train)


fig, axes = plt.subplots(1, 8, figsize=(10, 1.6))  # extra code - four images of each target
for ax, (name, i) in zip(axes, [(n, i) for n in targets for i in range(4)]):
    ax.imshow(targets[name][0][split[name]["test"][i * 40]])
    ax.set(xticks=[], yticks=[], title=name)

# %% [markdown]
# ## 2. The recipe in plain Keras
#
# One model per target: the pixels scaled to [-1, 1] (what MobileNetV2 was trained on), the ImageNet base called
# with `training=False`, average pooling, a softmax head. `features` shares the base: it gives the pooled
# features that feature extraction classifies.

# %%
def build(size, n_classes):
    base = models.load_base(PROFILE.base_model, alpha=PROFILE.base_alpha, input_size=size)
    inputs = keras.Input((size, size, 3))
    h = keras.layers.Rescaling(1 / 127.5, -1)(inputs)
    h = base(h, training=False)
    pooled = keras.layers.GlobalAveragePooling2D()(h)
    outputs = keras.layers.Dense(n_classes, activation="softmax", dtype="float32")(pooled)
    return base, keras.Model(inputs, pooled), keras.Model(inputs, outputs)


nets = {name: build(x.shape[1], len(np.unique(y))) for name, (x, y) in targets.items()}
PRETRAINED = {name: base.get_weights() for name, (base, _, _) in nets.items()}  # to reset before each run
base, features, model = nets["digits"]
print(f"{len(base.layers)} layers in the base, {models.trainable_summary(model)['total']:,} parameters in all")

# %% [markdown]
# **Phase 1, the linear probe.** With the base frozen, a logistic regression on the pooled features, its
# strength `C` chosen on the validation images: this is feature extraction, the reference fine-tuning must beat.
# A softmax layer *is* a logistic regression, so `training.linear_probe` also returns its weights as the model's
# head: fine-tuning starts from the probe (LP-FT, Kumar et al. 2022), not from a random head.

# %%
def probe(target, train, val):
    """Feature extraction: the pooled features of the (pretrained) base and a logistic regression."""
    (x, y), (_, feats, _) = targets[target], nets[target]
    f_train, f_val = (feats.predict(x[i], batch_size=128, verbose=0) for i in (train, val))
    clf, head = training.linear_probe(f_train, y[train], f_val, y[val])
    return clf.score(test_features[target], y[split[target]["test"]]), head, (f_train, f_val)


t0 = time.perf_counter()
test_features = {name: nets[name][1].predict(x[split[name]["test"]], batch_size=128, verbose=0)
                 for name, (x, _) in targets.items()}
train, val = labelled("digits", seed=0)
fe_acc, probe_head, (f_train, f_val) = probe("digits", train, val)
print(f"digits, feature extraction: test accuracy {fe_acc:.3f} ({time.perf_counter() - t0:.1f} s with the test "
      f"features)")

# %% [markdown]
# ### Pitfall: changing `trainable` without recompiling
#
# **Phase 2** unfreezes the base. `trainable` is read when Keras builds the training step, at the first `fit`
# after `compile`. Train the head with the base frozen for one epoch, unfreeze, forget `compile`, train again:

# %%
base.trainable = False
model.compile(keras.optimizers.Adam(HEAD_LR), "sparse_categorical_crossentropy", metrics=["accuracy"])
x, y = targets["digits"]
model.fit(x[train[:64]], y[train[:64]], epochs=1, verbose=0)  # phase 1 in Keras, a few steps
kernel = base.get_layer("Conv1").kernel
before = kernel.numpy().copy()
base.trainable = True
model.fit(x[train[:64]], y[train[:64]], epochs=1, verbose=0)
moved = float(np.abs(kernel.numpy() - before).max())
print(f"base.trainable = {base.trainable}, {len(model.trainable_weights)} trainable weights listed; "
      f"largest change of the base's first kernel: {moved}")
assert moved == 0.0, "without compile, the base should not have moved"

# %% [markdown]
# Keras lists the base as trainable, yet not one of its weights moved: the old training step still updates the
# head only. After any change of `trainable`, call `compile` again.
#
# ### BatchNormalization: freeze it, and pass `training=False`
#
# A BatchNormalization layer in training mode normalises with each batch's statistics and moves its moving
# averages towards this data set's; on a few hundred images of another kind that undoes what the base learned.
# `base(h, training=False)` asks for inference mode, but in Keras 3 (up to 3.15 at least: keras-team/keras issue
# 20285) it does not hold during `fit` for a BatchNormalization layer that is itself trainable. Measured on a
# small stand-in (a convolution and BatchNormalization called with `training=False`), one epoch each way:

# %%
def bn_drift(freeze_bn, seed=0):
    keras.utils.set_random_seed(seed)
    block = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3), keras.layers.BatchNormalization()])
    block.layers[-1].trainable = not freeze_bn
    inp = keras.Input((8, 8, 3))
    net = keras.Model(inp, keras.layers.Dense(2, activation="softmax", dtype="float32")(
        keras.layers.GlobalAveragePooling2D()(block(inp, training=False))))
    net.compile("adam", "sparse_categorical_crossentropy")
    net.fit(np.random.default_rng(seed).normal(3, 2, (64, 8, 8, 3)), np.arange(64) % 2, verbose=0)
    return float(np.abs(block.layers[-1].moving_mean.numpy()).max())  # starts at exactly 0


drift = {"trainable": bn_drift(False), "frozen": bn_drift(True)}
print(f"moving mean after one epoch with training=False: BN trainable {drift['trainable']:.3f}, "
      f"BN frozen {drift['frozen']:.3f}")
assert drift["trainable"] > 0 and drift["frozen"] == 0.0

# %% [markdown]
# So unfreeze the whole base, then set every BatchNormalization layer back to `trainable = False` (in Keras 3
# that also runs it in inference mode), keep `training=False` in the call, and compile at the low rate:

# %%
def unfreeze_all_but_batchnorm(base):
    base.trainable = True
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False  # inference mode: ImageNet's statistics stay


for name, (b, _, m) in nets.items():
    unfreeze_all_but_batchnorm(b)
    m.compile(keras.optimizers.Adam(FT_LR), "sparse_categorical_crossentropy", metrics=["accuracy"])
print("digits model:", models.trainable_summary(model))

# %% [markdown]
# ## 3. Fine-tuning against feature extraction, far and near
#
# One run of the recipe: the pretrained weights back, feature extraction (the probe), its head put into the
# model, the optimizer's state emptied (one `compile` serves every run: no new graph to trace), then `EPOCHS`
# epochs of the whole base starting at `FT_LR`. The rate decays along a cosine over the epochs
# (`keras.callbacks.LearningRateScheduler`), so that the last steps settle instead of ending wherever the
# last batches left the weights (05 measures schedules on their own). It returns both test accuracies, so every
# comparison is paired by seed. (`random_head` and `heads` serve sections 4 and 5.)

# %%
def random_head(like, seed):
    """A new head, initialised as keras.layers.Dense initialises one."""
    return [keras.initializers.GlorotUniform(seed)(like[0].shape).numpy(), np.zeros_like(like[1])]


probes = {}  # feature extraction's result for each target, seed and number of labels
heads = {}  # the head alone, on pooled features: it shares the Dense layer of its target's model
for name, (_, feats, m) in nets.items():
    f_in = keras.Input(feats.output_shape[1:])
    heads[name] = keras.Model(f_in, m.layers[-1](f_in))
    heads[name].compile(keras.optimizers.Adam(FT_LR), "sparse_categorical_crossentropy")

# %%
def cosine(lr, epochs):
    """The rate of each epoch: lr at the first, decaying along a cosine towards 0 at the end."""
    return keras.callbacks.LearningRateScheduler(lambda epoch: lr * 0.5 * (1 + np.cos(np.pi * epoch / epochs)))


def lp_ft(target, seed, k=LABELS, lr=FT_LR, epochs=EPOCHS, head="probe", head_epochs=0):
    """Feature extraction and fine-tuning from the same labelled images: both test accuracies, and how far
    the base moved from its pretrained weights. With head_epochs, the head trains alone first (section 5)."""
    (x, y), (base, _, model) = targets[target], nets[target]
    base.set_weights(PRETRAINED[target])
    train, val = labelled(target, seed, k)
    if (target, seed, k) not in probes:  # the probe depends on the labelled images only: fit it once
        probes[target, seed, k] = probe(target, train, val)
    fe, probe_head, (f_train, _) = probes[target, seed, k]
    keras.utils.set_random_seed(seed)
    model.layers[-1].set_weights(probe_head if head == "probe" else random_head(probe_head, seed))
    if head_epochs:  # gradual unfreezing (section 5): first the head alone at its rate, on the frozen base's features
        training.reset_optimizer(heads[target], HEAD_LR)
        heads[target].fit(f_train, y[train], batch_size=BATCH, epochs=head_epochs, verbose=0)
    training.reset_optimizer(model, lr)
    model.fit(x[train], y[train], batch_size=BATCH, epochs=epochs, callbacks=[cosine(lr, epochs)], verbose=0)
    ft = model.evaluate(x[split[target]["test"]], y[split[target]["test"]], batch_size=128, verbose=0)[1]
    return {"fe": fe, "ft": ft, "moved": training.weight_distance(base.get_weights(), PRETRAINED[target])}

# %%
t0 = time.perf_counter()
runs = {"digits": [lp_ft("digits", s) for s in SEEDS]}
print(f"digits: {(time.perf_counter() - t0) / len(SEEDS):.0f} s a run")

# %%
t0 = time.perf_counter()
runs["flowers"] = [lp_ft("flowers", s) for s in SEEDS]
print(f"flowers: {(time.perf_counter() - t0) / len(SEEDS):.0f} s a run")

# %%
for name, rs in runs.items():
    print(f"{name:>8}: feature extraction {np.round([r['fe'] for r in rs], 3).tolist()}, "
          f"fine-tuning {np.round([r['ft'] for r in rs], 3).tolist()}")
far, near = (claims.compare([r["ft"] for r in runs[n]], [r["fe"] for r in runs[n]]) for n in ("digits", "flowers"))
print(claims.conclusion(far, "fine-tuning", "feature extraction", f"on digits ({LABELS} labels a class)"))
print(claims.conclusion(near, "fine-tuning", "feature extraction", f"on flowers ({LABELS} labels a class)"))

# %%
def draw_target(target):  # extra code - each seed's pair of accuracies
    fig, ax = plt.subplots(figsize=(5, 2.6))
    for i, r in enumerate(runs[target]):
        ax.plot([0, 1], [r["fe"], r["ft"]], "o-", label=f"seed {SEEDS[i]}")
    ax.set(xticks=[0, 1], xticklabels=["feature extraction", "fine-tuning"], xlim=(-0.3, 1.3),
           ylabel="test accuracy", title=target)
    ax.legend(fontsize=8)


interactive.explore(draw_target, {"target": interactive.Choice(list(targets))}, title="Each seed, both methods")

# %% [markdown]
# Switch between the targets. The printed verdicts are this run's; in the course's reference run fine-tuning
# paid on the digits, far from what ImageNet taught the base, and not on the flowers, where the features were
# already close to what the task needs: the same recipe, different answers. That is the pattern Kornblith,
# Shlens and Le (2019) found across 12 targets: fine-tuning gains the most where the target is farthest from
# ImageNet. Each fine-tuning run also took the printed seconds, against a fraction of a second for the probe.

# %% [markdown]
# ## 4. A small learning rate, and what a high one forgets
#
# The advice: fine-tune at a rate 10 to 100 times lower than the one that trained the head, because large updates
# overwrite what the base learned, and a random head makes the first updates large and meaningless. Measured on
# the digits with `FEW` labels a class (where fine-tuning has the least to learn from): the head's rate
# `HEAD_LR`, 10x and 100x lower, from a random head and from the probe's head. Besides test accuracy, each run
# reports how far the base moved from its ImageNet weights (`training.weight_distance`: 0 is untouched).

# %%
RATES = (HEAD_LR, FT_LR, FT_LR / 10)  # the head's rate, 10x and 100x lower (FT_LR is HEAD_LR / 10)
t0 = time.perf_counter()
rates = {("random", lr): [lp_ft("digits", s, k=FEW, lr=lr, head="random") for s in SEEDS] for lr in RATES}
print(f"random head, {len(RATES) * len(SEEDS)} runs: {time.perf_counter() - t0:.0f} s")

# %%
rates.update({("probe", lr): [lp_ft("digits", s, k=FEW, lr=lr) for s in SEEDS] for lr in RATES})
print(f"digits, {FEW} labels a class, {EPOCHS} epochs; feature extraction "
      f"{np.mean([r['fe'] for r in rates['probe', HEAD_LR]]):.3f} ({time.perf_counter() - t0:.0f} s)")
for (head, lr), rs in rates.items():
    print(f"{head:>6} head, lr {lr:<7g}: test accuracy {np.mean([r['ft'] for r in rs]):.3f} "
          f"(seeds {np.round([r['ft'] for r in rs], 3).tolist()}), base moved "
          f"{np.mean([r['moved'] for r in rs]):.3f} of its norm")

# %%
def gain(arm_a, arm_b, what="ft"):
    return claims.compare([r[what] for r in rates[arm_a]], [r[what] for r in rates[arm_b]])


low_rate = {head: gain((head, FT_LR), (head, HEAD_LR)) for head in ("random", "probe")}
for head, c in low_rate.items():
    print(claims.conclusion(c, f"lr {FT_LR:g}", f"the head's lr {HEAD_LR:g}", f"from a {head} head"))

# %% [markdown]
# Read the accuracy together with the distance. At the head's rate the base moved furthest from its ImageNet
# weights; whether that cost accuracy, and from which head, the printed verdicts say for this run. At 100x lower
# the base hardly moves: fine-tuning then stays close to feature extraction, which is safe and gains little.
# With so few labels, what the base forgets is what the target can least afford to replace.
#
# ## 5. Gradual unfreezing
#
# ULMFiT (Howard and Ruder 2018) unfreezes one group of layers at a time, top first, so that the head has
# learned something before its gradients reach the base. Here, in its simplest form, two groups: the head alone
# first, `HEAD_EPOCHS` epochs at the head's rate on the frozen base's pooled features (seconds, on the cached
# features), then everything for `EPOCHS` epochs at `FT_LR`; against everything at once for the same `EPOCHS`
# epochs (the runs of section 4). Where it should matter: a random head, whose first gradients into the base are
# large and meaningless. Where it should not: the probe's fitted head, which is already that protection.

# %%
HEAD_EPOCHS = 20  # the head alone on the cached features: no image goes through the base
gradual = {(head, lr): [lp_ft("digits", s, k=FEW, lr=lr, head=head, head_epochs=HEAD_EPOCHS) for s in SEEDS]
           for head, lr in (("random", FT_LR), ("probe", FT_LR))}
stepwise = {arm: claims.compare([r["ft"] for r in gradual[arm]], [r["ft"] for r in rates[arm]]) for arm in gradual}
for (head, lr), c in stepwise.items():
    print(f"{head} head: gradual {np.round([r['ft'] for r in gradual[head, lr]], 3).tolist()}, "
          f"all at once {np.round([r['ft'] for r in rates[head, lr]], 3).tolist()}")
    print(claims.conclusion(c, "gradual unfreezing", "all at once", f"from a {head} head at lr {lr:g}"))

# %% [markdown]
# Two stages are the coarsest gradual unfreezing; ULMFiT's one group per epoch would need one more compile (and
# graph trace) per stage. The probe of LP-FT is the same idea taken to its end: train the head to convergence
# before anything else moves. ULMFiT also gives lower layers lower rates (discriminative, or layer-wise, learning
# rates; `tlcourse.training.DiscriminativeAdam` does it in Keras); this lesson does not measure them.
#
# ## 6. A small batch
#
# "Fine-tune with a small batch" rests on evidence from training, not from this lesson: Masters and Luschi (2018,
# "Revisiting Small Batch Training for Deep Neural Networks") found the best test accuracy with batches of 2 to 32
# on CIFAR-10, CIFAR-100 and ImageNet, with and without BatchNormalization. Two mechanisms carry it: at a fixed
# number of epochs a small batch takes more (noisier) steps, and a trainable BatchNormalization layer normalises
# with statistics that are noisier in small batches. This recipe freezes BatchNormalization, which removes the
# second; the course does not measure the claim here, and records it as cited.

# %% [markdown]
# Where this matters in practice: on a GPU the batch is often as large as memory allows. If fine-tuning with a
# large batch goes badly, a smaller batch (with BatchNormalization frozen, as here) is a cheap thing to try.
# Augmentation and watching for over-fitting are lesson 05's subjects.
#
# ## 7. Checkpoints: an interrupted run resumes
#
# `ModelCheckpoint` keeps the best model on disk; `BackupAndRestore` saves the training state at each epoch end
# and, when `fit` is called again after a crash, continues from the last finished epoch instead of epoch 1.
# Shown on a head on the digits' pooled features (section 2), the crash simulated by a callback after epoch 3.

# %%
class Crash(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 2:
            raise RuntimeError("simulated crash after epoch 3")


backup = OUT / "backup"
callbacks = [keras.callbacks.BackupAndRestore(str(backup), delete_checkpoint=True),
             keras.callbacks.ModelCheckpoint(str(OUT / "best.keras"), monitor="val_loss", save_best_only=True)]
keras.utils.set_random_seed(42)
clf = keras.Sequential([keras.Input(f_train.shape[1:]), keras.layers.Dense(10, activation="softmax", dtype="float32")])
clf.compile(keras.optimizers.Adam(HEAD_LR), "sparse_categorical_crossentropy")
y_digits = targets["digits"][1]
try:
    clf.fit(f_train, y_digits[train], validation_data=(f_val, y_digits[val]), epochs=8, verbose=0,
            callbacks=callbacks + [Crash()])
except RuntimeError as err:
    print("interrupted:", err)

# %%
resumed = clf.fit(f_train, y_digits[train], validation_data=(f_val, y_digits[val]), epochs=8, verbose=0,
                  callbacks=callbacks)
print(f"second fit ran {len(resumed.history['loss'])} epochs (4 to 8); best model saved:",
      (OUT / "best.keras").is_file())
assert len(resumed.history["loss"]) == 5

# %% [markdown]
# ## Exercises
#
# ### Exercise 1 (about 5 min)
#
# Build a phase-1 model on a new base: the pixels rescaled to [-1, 1] (as in section 2), `new_base` frozen and
# called with `training=False`, average pooling and a two-class softmax. Only the head may have trainable weights.

# %%
new_base = models.load_base(PROFILE.base_model, alpha=PROFILE.base_alpha, input_size=DIGIT_SIZE)
# your code here: build `answer1`, a keras.Model from images to 2 probabilities
answer1 = None

# %%
exercises.check_phase_one(answer1, new_base)

# %% [markdown]
# ### Exercise 2 (about 5 min)
#
# Take your phase-1 model to phase 2: unfreeze `new_base` from `block_15_expand` up (BatchNormalization stays
# frozen), and compile with a learning rate 10 to 100 times lower than the head's `HEAD_LR`.

# %%
# your code here

# %%
exercises.check_phase_two(answer1, new_base, head_lr=HEAD_LR, from_layer="block_15_expand")

# %% [markdown] tags=["solution"]
# ### Solutions

# %% tags=["solution"]
new_base.trainable = False
inp = keras.Input((DIGIT_SIZE, DIGIT_SIZE, 3))
z = keras.layers.GlobalAveragePooling2D()(new_base(keras.layers.Rescaling(1 / 127.5, -1)(inp), training=False))
answer1 = keras.Model(inp, keras.layers.Dense(2, activation="softmax", dtype="float32")(z))
assert exercises.check_phase_one(answer1, new_base)

# %% tags=["solution"]
models.unfreeze_top(new_base, from_layer="block_15_expand")
answer1.compile(keras.optimizers.Adam(HEAD_LR / 10), "sparse_categorical_crossentropy")
assert exercises.check_phase_two(answer1, new_base, head_lr=HEAD_LR, from_layer="block_15_expand")

# %% [markdown]
# ## Quiz
#
# Six questions on this lesson. Choose, tick or type an answer and press **Check**: the
# feedback says why it is right or wrong. Where widgets cannot be drawn (a terminal, a static page),
# the questions print as text, and `quiz.show("03_fine_tuning", answers=True)` prints the answers.

# %%
from tlcourse_exercises import quiz

quiz.show("03_fine_tuning")

# %% [markdown]
# ## Key points
#
# - Fine-tune in two phases: a fitted head on the frozen base first (here a logistic regression: LP-FT), then the
#   base at a rate about 10x lower than the head's, decaying over the epochs; start with feature extraction,
#   which is the reference.
# - Whether fine-tuning pays depends on the target: compare the printed verdicts of section 3 for digits (far
#   from ImageNet) and flowers (near it). In the course's reference run it paid on the far target only.
# - A high rate moves the base furthest from its pretrained weights (section 4 measures the distance); whether
#   that costs accuracy, and whether a fitted head or gradual unfreezing protects it, read sections 4 and 5.
# - The small-batch advice rests on published training results (Masters and Luschi 2018), not on a measurement here.
# - Recompile after every change of `trainable`: without it, the base did not move at all.
# - Freeze the BatchNormalization layers *and* call the base with `training=False`: in Keras 3 a trainable
#   BatchNormalization layer moved its statistics during `fit` despite `training=False`.
# - One `compile` per model, with the weights and the optimizer reset between runs, makes many runs affordable;
#   `BackupAndRestore` and `ModelCheckpoint` make long runs survive interruptions.
#
# **Further reading**
# - Chollet, F. (2020). Transfer learning & fine-tuning. Keras developer guides, keras.io.
# - Kornblith, S., Shlens, J. and Le, Q. V. (2019). Do better ImageNet models transfer better? *CVPR*.
# - Kumar, A., Raghunathan, A., Jones, R., Ma, T. and Liang, P. (2022). Fine-tuning can distort pretrained features and underperform out-of-distribution (LP-FT). *ICLR*.
# - Howard, J. and Ruder, S. (2018). Universal language model fine-tuning for text classification (ULMFiT). *ACL*.
