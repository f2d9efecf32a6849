# %% [markdown]
# # 06 Capstone: transfer learning on your own photos
#
# A lab: you bring a folder of photos, the notebook brings the recipe of the course, end to end. It runs
# unchanged on any folder of photos in two to a few dozen classes; by default on the ants/bees photos.
#
# **You will learn**
# - to audit a folder of images before training: counts, sizes, broken and duplicate files, imbalance;
# - to make an honest train/validation/test split, and to know which images the test accuracy comes from;
# - the whole recipe in plain Keras (a pipeline, augmentation layers, a frozen base, `fit`, the unfreeze, the
#   recompile, early stopping), then the same recipe made fast by caching what stays frozen;
# - to compare a baseline, feature extraction and fine-tuning on held-out test images, and to read their
#   confusion matrices and worst mistakes;
# - to save a model that classifies raw image files, load it safely, and run the same recipe as a command
#   (`tlcourse audit`, `tlcourse train`, `tlcourse predict`).
#
# **Prerequisites:** 02_feature_extraction, 03_fine_tuning (what the recipe does and why); 05_best_practices helps.
#
# **Terms:** [the course glossary](GLOSSARY.md).
#
# **Estimated time:** (generated from tlcourse/minutes.json)
# The computing takes longer on a big folder of your own.

# %%
import json
import shutil
import tempfile
import time
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import tlcourse
from tlcourse import claims, data, features, interactive, models, plots, runtime, settings, training
from tlcourse_exercises import capstone as exercises

report = tlcourse.setup(seed=42)

# %% [markdown]
# ## Your folder
#
# The one cell to change. It reads the environment variable `TLCOURSE_CAPSTONE_DIR`, so an instructor (or a
# test) can run this notebook unchanged on another folder; without it, the ants/bees photos. Two layouts work:
#
# - `folder/<class>/*.jpg`: the lab makes a stratified train/validation/test split, seeded;
# - `folder/<split>/<class>/*.jpg` with splits `train`, `val` (or `validation`), `test`: the lab uses them.
#
# The cell is tagged `parameters`, so tools such as papermill can set it too.

# %% tags=["parameters"]
DEFAULT_DIR = str(data.dataset_path("hymenoptera"))
FOLDER = str(settings.current().capstone_dir or DEFAULT_DIR)  # $TLCOURSE_CAPSTONE_DIR, if set
SPLITS_FILE = "outputs/capstone_splits.json"  # written by the audit (section 1)
OUT_DIR = "outputs/capstone"  # where `tlcourse train` saves its model (section 9)
SEED = 42
PROFILE = report.profile
BUDGET = 120 if PROFILE.name == "quick" else 600  # seconds `tlcourse train` plans its image size and epochs for
BATCH_SIZE = PROFILE.batch_size
BASE_MODEL, BASE_ALPHA = PROFILE.base_model, PROFILE.base_alpha
USING_DEFAULT = Path(FOLDER).resolve() == Path(DEFAULT_DIR).resolve()
print(f"folder: {FOLDER}\nprofile {PROFILE.name}: {BASE_MODEL} (alpha {BASE_ALPHA})")

# %% [markdown]
# ## 1. Audit the folder before training
#
# Training on a folder nobody has looked at fails late and silently: a text file named `.jpg` stops an epoch
# half-way, a photo copied into both train and test inflates the test accuracy, a class with ten photos
# beside one with a thousand makes accuracy flatter a model that ignores it. The course's command audits a
# folder: `tlcourse audit FOLDER` opens and decodes every file once, hashes it to find exact duplicates
# (keeping one copy, in the evaluation split where there is one), counts, and splits the folder into train,
# validation and test, seeded; `--splits FILE` writes the splits (every file and its label) as JSON. In a
# terminal you type the command; in a notebook `runtime.run_command` runs it. Read its warnings.

# %%
exit_code = runtime.run_command("audit", FOLDER, "--seed", SEED, "--splits", SPLITS_FILE)
print("exit code:", exit_code)

# %% [markdown]
# ## 2. Train, validation, test
#
# The test images answer one question at the end: how well does the model do on photos it has never seen?
# Nothing may be chosen on them, not the epoch, not the regularisation strength, not which stage to keep.
# Those choices use the validation split. Where the folder has no test split, its `val` split serves as the
# test set and validation is carved out of `train`; the notes say which. The rest of the lesson trains on
# exactly the files of `SPLITS_FILE`: plain JSON, which any script of yours can read too.

# %%
splits = json.loads(Path(SPLITS_FILE).read_text(encoding="utf-8"))
names = splits["classes"]
files = {name: splits[name]["files"] for name in ("train", "val", "test")}
labels = {name: np.array(splits[name]["labels"]) for name in files}
print(names, {name: len(f) for name, f in files.items()}, *splits["notes"], sep="\n")
assert not set(files["train"]) & set(files["test"]), "a test photo is also a training photo"

# %% [markdown]
# A folder that cannot work is refused before any training, with a message that says what to change and an
# exit code that is not 0. Here is a folder with one class:

# %%
bad = Path("outputs/capstone_bad_folder")
shutil.rmtree(bad, ignore_errors=True)
(bad / "only_class").mkdir(parents=True)
for f in files["train"][:3]:
    shutil.copy(f, bad / "only_class")
print("exit code:", runtime.run_command("audit", bad))

# %%
# extra code - two photos of each class, at the size the model sees
idx = data.few_shot(labels["train"], 2, seed=SEED)
plots.image_grid(data.load_images([files["train"][i] for i in idx], image_size=160), labels["train"][idx],
                 class_names=names, ncols=8, title="a few photos per class");

# %% [markdown]
# ### Exercise 1 (about 2 min)
#
# From which folder do the test images come (for a `<class>/*` folder answer `"carved"`), and how many are
# there? Read it from `splits` (its notes, and `splits["test"]["root"]`), then run the check.

# %%
test_from = None  # your answer, for example "test"
n_test = None  # your answer
# %%
print(exercises.check_test_split(test_from, n_test, splits))  # NOT YET until both are answered

# %% [markdown]
# ## 3. The recipe in plain Keras
#
# First the recipe itself, as the Keras guide to transfer learning writes it (Chollet 2020) and as 02 and 03
# taught it. The model takes raw pixels: augmentation layers (active in `fit` only), a `Rescaling` layer to the
# [-1, 1] the MobileNets were trained on, the ImageNet base, frozen and called with `training=False`, average
# pooling, dropout and a softmax layer. Keeping the preprocessing *inside* the model means the saved file
# classifies a photo as it is, and loads without unsafe deserialisation (a `Lambda` layer would need it, see 05).
#
# These cells are the course's recipe, not a copy of it: the notebook build saves the cells tagged `export`
# into `tlcourse/recipe.py` (as d2l.ai saves its functions), and `tlcourse train` calls them.

# %% tags=["export"]
def classifier(n_classes, base, *, image_size, rescale=(1 / 127.5, -1.0), augment=None, dropout=0.2,
               name="transfer_classifier"):
    """Raw pixels in [0, 255] -> augmentation -> rescaling -> the frozen base -> pooling -> dropout -> softmax."""
    base.trainable = False
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = augment(inputs) if augment is not None else inputs
    x = keras.layers.Rescaling(*rescale, name="preprocess")(x)
    x = base(x, training=False)  # BatchNormalization in inference mode, whatever `trainable` says later
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", dtype="float32", name="classifier")(x)
    return keras.Model(inputs, outputs, name=name)

# %% [markdown]
# Phase 1 trains the new head with the base frozen. Phase 2 unfreezes the top of the base, from `from_layer` up,
# but keeps every BatchNormalization layer frozen (in Keras 3 that also keeps it in inference mode: 03 measured
# its statistics drifting otherwise), then compiles again (without `compile`, 03 measured that nothing moves) at
# a rate about 10x lower, and trains until the validation loss stops improving, keeping the best epoch's weights.

# %% tags=["export"]
def train_head(model, base, train, val, *, epochs, learning_rate=1e-3):
    """Phase 1: the base frozen, the head trained."""
    base.trainable = False
    model.compile(keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model.fit(train, validation_data=val, epochs=epochs, verbose=0)


def fine_tune(model, base, train, val, *, epochs, learning_rate=1e-4, from_layer=None, patience=2,
              class_weight=None, callbacks=(), verbose=0):
    """Phase 2: the base from `from_layer` up (all of it by default) unfrozen, BatchNormalization frozen,
    recompiled at a low rate, trained with early stopping on the validation loss (`patience=None`: none)."""
    base.trainable = True
    start = [layer.name for layer in base.layers].index(from_layer) if from_layer else 0
    for i, layer in enumerate(base.layers):  # each layer set: a model cut out of another may not pass it on
        layer.trainable = i >= start and not isinstance(layer, keras.layers.BatchNormalization)
    model.compile(keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy", metrics=["accuracy"])
    if patience is not None:
        callbacks = [keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True), *callbacks]
    return model.fit(train, validation_data=val, epochs=epochs, class_weight=class_weight, callbacks=list(callbacks),
                     verbose=verbose)

# %% [markdown]
# Run it on the folder: a `tf.data` pipeline of each split at 160 px (decoded once, then from memory), random
# flips and small rotations, the head for `HEAD_EPOCHS` epochs, then the top blocks, from the layer where the
# fast version below cuts the base, for at most `FT_EPOCHS`. The pipelines read the audited splits' file lists:
# `keras.utils.image_dataset_from_directory` on the folder itself would also read the files the audit set aside.

# %%
PLAIN_SIZE = 160
HEAD_EPOCHS, FT_EPOCHS = (3, 4) if PROFILE.name == "quick" else (10, 10)
pipeline = {name: data.make_dataset(files[name], labels[name], image_size=PLAIN_SIZE, batch_size=BATCH_SIZE,
                                    shuffle=name == "train", seed=SEED) for name in files}
augment = keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.1)], name="augment")
keras.utils.set_random_seed(SEED)
plain_base = models.load_base(BASE_MODEL, alpha=BASE_ALPHA, input_size=PLAIN_SIZE)
plain = classifier(len(names), plain_base, image_size=PLAIN_SIZE, augment=augment)
start = time.perf_counter()
phase1 = train_head(plain, plain_base, pipeline["train"], pipeline["val"], epochs=HEAD_EPOCHS)
phase2 = fine_tune(plain, plain_base, pipeline["train"], pipeline["val"], epochs=FT_EPOCHS,
                   from_layer=models.base_spec(BASE_MODEL).cut_layer)
plain_seconds = time.perf_counter() - start

# %% [markdown]
# Evaluate once on the test split, and save: the `.keras` file holds the augmentation layers too (they do
# nothing outside `fit`) and the rescaling, so it classifies raw photos.

# %%
plain_accuracy = plain.evaluate(pipeline["test"], verbose=0)[1]
plain.save("outputs/capstone_plain_recipe.keras")
print(f"plain Keras recipe: test accuracy {plain_accuracy:.3f} on {len(files['test'])} photos, "
      f"{plain_seconds:.0f} s of training ({len(phase2.history['loss'])} of {FT_EPOCHS} fine-tuning epochs run)")
plots.learning_curves({"phase 1, head": phase1, "phase 2, top unfrozen": phase2}, metrics=["loss", "accuracy"]);

# %% [markdown]
# ## 4. The same recipe, made fast: cache what stays frozen
#
# Every epoch above sent each photo through the whole frozen bottom of the base again, to compute exactly the
# activations it computed the epoch before. The fast version computes them once: the model is `classifier`
# again (without augmentation layers: the cache holds each photo and its mirror image instead of random flips),
# cut where the plain recipe's fine-tuning started, into a `bottom` that runs once per photo and a `head` that
# trains. The cut is two `keras.Model`s over the same layers, so training `head` trains `model`; it must be
# where no skip connection jumps over it (`models.base_spec(...).cut_layer` is such a layer, and
# `models.split_at` checks any other). This version works at 224 px, the size the base was trained at:
# bigger images cost more, and the cache pays that cost once.

# %% tags=["export"]
def split_classifier(model, base, cut_layer):
    """`model` (made by `classifier`) cut at the input of the base's `cut_layer`: `bottom` (raw pixels -> the
    activations there, frozen, computed once) and `head` (activations -> probabilities), so that `head(bottom(x))`
    is `model(x)` with the same layers and weights. Also `top` (the base's part in `head`) and `pooled`
    (activations -> the pooled features the softmax layer reads)."""
    cut = base.get_layer(cut_layer).input
    base_bottom, top = keras.Model(base.input, cut), keras.Model(cut, base.output)
    image = model.inputs[0]
    bottom = keras.Model(image, base_bottom(model.get_layer("preprocess")(image), training=False), name="bottom")
    activations = keras.Input(tuple(cut.shape[1:]), name="activations")
    pooled = model.get_layer("pool")(top(activations, training=False))
    probabilities = model.get_layer("classifier")(model.get_layer("dropout")(pooled))
    return bottom, keras.Model(activations, probabilities, name="head"), top, keras.Model(activations, pooled)

# %%
IMAGE_SIZE = 224
spec = models.base_spec(BASE_MODEL)
keras.utils.set_random_seed(SEED)
base = models.load_base(BASE_MODEL, alpha=BASE_ALPHA, input_size=IMAGE_SIZE)
model = classifier(len(names), base, image_size=IMAGE_SIZE, rescale=spec.rescale)
bottom, head, top, pooled = split_classifier(model, base, spec.cut_layer)

def activations(split, flip=False):  # every photo of a split through the frozen bottom, once
    images = data.make_dataset(files[split], None, image_size=IMAGE_SIZE, batch_size=BATCH_SIZE, cache=False)
    return features.extract_features(bottom, images.map(lambda x: x[:, :, ::-1]) if flip else images)

start = time.perf_counter()
cache = {split: activations(split) for split in files}
cache["train_flipped"] = activations("train", flip=True)  # each training photo's mirror image
cache_seconds = time.perf_counter() - start
print(f"cached {sum(len(a) for a in cache.values())} photos' activations {cache['test'].shape[1:]} in "
      f"{cache_seconds:.1f} s ({sum(a.nbytes for a in cache.values()) / 1e6:.0f} MB)")

# %% [markdown]
# ## 5. A baseline without pretraining
#
# A number means little alone. The baseline is what the photos give without any transfer: a logistic
# regression on 16x16 colour thumbnails (colour and rough layout, nothing more). Chance is one over the number
# of classes (or the share of the largest class, if the test set is imbalanced).

# %%
thumbnails = {split: data.load_images(files[split], image_size=16).reshape(len(files[split]), -1) for split in files}
baseline = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000, class_weight="balanced"))
baseline.fit(thumbnails["train"], labels["train"])
predicted = {"baseline": baseline.predict(thumbnails["test"])}
chance = np.bincount(labels["test"]).max() / len(labels["test"])
print(f"baseline: test accuracy {np.mean(predicted['baseline'] == labels['test']):.3f}; "
      f"largest-class share of the test set: {chance:.3f}")

# %% [markdown]
# ## 6. Feature extraction, then fine-tuning (LP-FT)
#
# The softmax layer is a logistic regression on the base's pooled features: feature extraction fits it
# directly (`training.linear_probe`, introduced in 03) on the cached features of the training photos and their
# mirror images, choosing its strength on validation, and writes its weights into the `classifier` layer. On a
# folder nobody has seen there is no chance to tune a learning rate and an epoch count by hand; this needs none.

# %%
x_train = np.concatenate([cache["train"], cache["train_flipped"]])
y_train = np.concatenate([labels["train"], labels["train"]])
f_train, f_val = features.extract_features(pooled, x_train), features.extract_features(pooled, cache["val"])
probe, weights = training.linear_probe(f_train, y_train, f_val, labels["val"], cs=(0.01, 0.1, 1.0, 10.0))
head.get_layer("classifier").set_weights(weights)
fe_weights = head.get_weights()

def accuracy(split):  # the head's accuracy on a cached split
    return float(np.mean(features.extract_features(head, cache[split]).argmax(1) == labels[split]))

val_accuracy = {"feature extraction": accuracy("val")}
predicted["feature extraction"] = features.extract_features(head, cache["test"]).argmax(1)
print(f"feature extraction (C = {probe[-1].C}): validation accuracy {val_accuracy['feature extraction']:.3f}")

# %% [markdown]
# Fine-tuning starts from that fitted head (LP-FT: linear probe, then fine-tune, Kumar et al. 2022, who argue
# that a random head sends large gradients into the pretrained blocks before it has learnt anything). It is
# section 3's `fine_tune`, unchanged, on the cached activations: the top blocks of the base (BatchNormalization
# frozen, in inference mode) and the head, recompiled at a low rate, with early stopping. If it does not beat
# feature extraction on validation accuracy, the head goes back to the feature-extraction weights: with a few
# dozen validation photos that is a coarse test, and the validation split, not the test, decides.

# %%
LPFT_EPOCHS = 6 if PROFILE.name == "quick" else 15
cached_train = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(len(x_train), seed=SEED)
keras.utils.set_random_seed(SEED)
start = time.perf_counter()
lpft = fine_tune(head, top, cached_train.batch(BATCH_SIZE), (cache["val"], labels["val"]), epochs=LPFT_EPOCHS)
lpft_seconds = time.perf_counter() - start
val_accuracy["LP-FT"] = accuracy("val")
kept = val_accuracy["LP-FT"] > val_accuracy["feature extraction"]  # a tie keeps the simpler stage
if not kept:
    head.set_weights(fe_weights)
probabilities = features.extract_features(head, cache["test"])
predicted["LP-FT"] = probabilities.argmax(1)
print(f"LP-FT: validation accuracy {val_accuracy['LP-FT']:.3f} after {len(lpft.history['loss'])} epochs "
      f"in {lpft_seconds:.0f} s; fine-tuned weights kept: {kept}")

# %%
# extra code - LP-FT's training and validation accuracy by epoch, and the final model's confusion matrix
plots.learning_curves({"LP-FT on the cache": lpft}, metrics=["accuracy"]);
plots.confusion_matrix(labels["test"], predicted["LP-FT"], names, title="final model, test photos");

# %% [markdown]
# ## 7. The stages side by side
#
# The plain recipe of section 3 stands beside the cached stages: the same model and the same fine-tuning
# function, at 160 px with random augmentation, against 224 px, mirror images and a closed-form head.
# Their seconds are not comparable as totals; the seconds an epoch are, bearing in mind that an epoch of the
# cached recipe sees twice as many images, each about twice as large.
# On the ants/bees photos (ImageNet photos, close to what the base was trained on), transfer should beat the
# baseline by a wide margin; on your folder the margins are yours to find. With only a few dozen validation
# photos, small differences between feature extraction and fine-tuning are hard to see: one test photo is
# 1/153 of the ants/bees test accuracy (`benchmarks/capstone_recipe.py` repeats the recipe over seeds and
# prints the spread).

# %%
results = {"plain Keras recipe": plain_accuracy,
           **{stage: float(np.mean(p == labels["test"])) for stage, p in predicted.items()}}
plots.bar_comparison(results, title="test accuracy");
for stage, acc in results.items():
    print(f"{stage:>20}: {acc:.3f}  ({len(labels['test'])} test images)")
plain_epochs = HEAD_EPOCHS + len(phase2.history["loss"])
print(f"plain recipe: {plain_epochs} epochs in {plain_seconds:.0f} s at {PLAIN_SIZE} px, "
      f"{plain_seconds / plain_epochs:.1f} s an epoch")
lpft_epochs = len(lpft.history["loss"])
print(f"cached recipe: {lpft_epochs} fine-tuning epochs in {lpft_seconds:.0f} s at {IMAGE_SIZE} px, each photo and "
      f"its mirror image, {lpft_seconds / lpft_epochs:.1f} s an epoch, after caching once in {cache_seconds:.0f} s")

# %% [markdown]
# How sure are these differences? This run has one seed, so the spread here is that of the test photos: a
# paired bootstrap (resample the test photos, with replacement, 2,000 times; each stage is scored on the same
# resample) gives the standard error of each difference, and `claims.compare_examples` turns it into a 95%
# interval and a verdict.

# %%
correct = {stage: p == labels["test"] for stage, p in predicted.items()}
transfer = claims.compare_examples(correct["feature extraction"], correct["baseline"], seed=SEED)
lpft_gain = claims.compare_examples(correct["LP-FT"], correct["feature extraction"], seed=SEED)
print(claims.conclusion(transfer, "feature extraction", "the baseline", "on the test photos"))
print(claims.conclusion(lpft_gain, f"LP-FT (fine-tuned weights kept: {kept})", "feature extraction",
                        "on the test photos"))

# %% [markdown]
# Read the two verdicts printed above. An interval over the test photos of one run says nothing of another
# seed: over three seeds on ants/bees and on all the flowers (`benchmarks/capstone_recipe.py recipe`) LP-FT's
# mean gain was smaller than the seeds' spread. Where validation sent the model back to the
# feature-extraction weights, the two stages are the same model and the difference is exactly zero. On a
# folder of your own the verdicts follow your figures.

# %% [markdown]
# ### Exercise 2 (about 3 min)
#
# Accuracy hides which class suffers. Compute the test accuracy of each class for the final model (the share
# of the test images of that class it gets right) as a dict `{class name: accuracy}`, from
# `labels["test"]` (the true labels) and `predicted["LP-FT"]`.

# %%
per_class = None  # your answer: {"ants": ..., "bees": ...}
# %%
print(exercises.check_per_class_accuracy(per_class, labels["test"], predicted["LP-FT"], names))

# %% [markdown]
# ## 8. Save, reload, predict a new photo
#
# `model` shares its layers with `head`, so it holds what the stages trained: save it as `.keras` and load it
# back with `keras.saving.load_model`, whose safe mode (the default) refuses files with `Lambda` layers. It
# classifies raw photos, at 224 px. A photo that cannot be read is reported, not a crash.

# %%
model.save("outputs/capstone_model.keras")
reloaded = keras.saving.load_model("outputs/capstone_model.keras")
test_images = data.load_images(files["test"], image_size=IMAGE_SIZE)
same = np.allclose(reloaded.predict(test_images, verbose=0), probabilities, atol=1e-4)
print("reloaded model gives the same test probabilities:", same)
for path in files["test"][:3] + [str(bad / "no_photo_here.jpg")]:
    try:
        p = reloaded.predict(data.read_rgb(path, IMAGE_SIZE)[None], verbose=0)[0]
        print(f"{Path(path).name}: {names[p.argmax()]} ({p.max():.2f})")
    except data.ImageReadError as exc:
        print(f"{Path(path).name}: {exc.reason}")

# %% [markdown]
# Now a photo of your own. In JupyterLab, press **upload** and pick a photo from your computer: the saved
# model, reloaded above, gives its class probabilities. Try a photo of neither class (it still has to choose
# one of them, often with confidence), and a file that is not a photo. Until you upload, the cell shows the
# first test photo.

# %%
sample_photo = Path(files["test"][0]).read_bytes()

def draw_upload(photo):  # photo: the uploaded file's bytes, or sample_photo until you upload
    with tempfile.TemporaryDirectory() as folder:  # read_rgb reads files: the upload goes through one
        path = Path(folder) / "upload"
        path.write_bytes(photo)
        try:
            pixels = data.read_rgb(path, IMAGE_SIZE)
        except data.ImageReadError as exc:
            print(f"this upload cannot be read: {exc.reason}")
            return
    p = reloaded.predict(pixels[None], verbose=0)[0]
    _, (left, right) = plt.subplots(1, 2, figsize=(8, 3), gridspec_kw={"width_ratios": [1, 1.4]})
    left.imshow(pixels); left.axis("off"); left.set_title(f"as the model sees it ({IMAGE_SIZE} px)", fontsize=9)
    right.barh(names, p); right.set_xlim(0, 1); right.set_xlabel("probability")
    print(", ".join(f"{name} {q:.3f}" for name, q in zip(names, p)))

interactive.explore(draw_upload, {"photo": interactive.Upload(default=sample_photo)},
                    title="your photo through the saved model")

# %% [markdown]
# ## 9. The same recipe as a command: `tlcourse train`
#
# `tlcourse train` runs this lesson's recipe without Jupyter, on any folder: the audit, then the same
# `classifier`, `split_classifier` and `fine_tune`, with what a folder nobody has looked at needs. Given a time
# budget in seconds rather than an image size, it asks validation which size pays (a linear probe on the
# frozen base's features at 224 and 160 px and at the size the photos suggest takes seconds), times this
# machine, and spends the rest of the budget on fine-tuning epochs at two learning rates, validation choosing.
# Its fine-tuning differs from section 6's in what validation chooses: two rates from the same start, and the
# epoch with the best validation accuracy, where section 6 stops on the validation loss. So on the same photos
# the two can keep different weights, one the fine-tuned top, the other the feature-extraction head.
# It prints each stage's test accuracy and each rate's validation accuracy by epoch (`--verbose` adds Keras's
# line for each epoch), and writes `model.keras`, `classes.json`, `report.json` (accuracies, the plan, seconds
# per stage) and `splits.json` to `--out`; `tlcourse predict` classifies photos with it.
#
# ```bash
# tlcourse train path/to/my_photos --out runs/my_photos      # --budget 600 for ten minutes
# tlcourse predict runs/my_photos new_photo.jpg another.png
# ```

# %%
exit_code = runtime.run_command("train", FOLDER, "--out", OUT_DIR, "--budget", BUDGET, "--seed", SEED)
command_report = json.loads((Path(OUT_DIR) / "report.json").read_text(encoding="utf-8"))
print("exit code:", exit_code, "| the command's test accuracies:", command_report["test_accuracy"])

# %%
print("exit code:", runtime.run_command("predict", OUT_DIR, files["test"][0]))

# %% [markdown] tags=["solution"]
# ## Solutions

# %% [markdown] tags=["solution"]
# Exercise 1: the notes of `splits` say where the test images come from.

# %% tags=["solution"]
test_from = "carved" if any("stratified split" in n for n in splits["notes"]) else Path(splits["test"]["root"]).name
n_test = len(splits["test"]["files"])
result = exercises.check_test_split(test_from, n_test, splits)
print(result)
assert result

# %% [markdown] tags=["solution"]
# Exercise 2: the recall of each class, the diagonal of the confusion matrix before normalising.

# %% tags=["solution"]
y_true, y_pred = labels["test"], predicted["LP-FT"]
per_class = {name: float(np.mean(y_pred[y_true == i] == i)) for i, name in enumerate(names)}
result = exercises.check_per_class_accuracy(per_class, y_true, y_pred, names)
print(per_class, result, sep="\n")
assert result

# %% [markdown]
# ## Quiz
#
# Five questions on this lesson. Choose, tick or type an answer and press **Check**: the
# feedback says why it is right or wrong. Where widgets cannot be drawn (a terminal, a static page),
# the questions print as text, and `quiz.show("06_capstone_your_own_data", answers=True)` prints the answers.

# %%
from tlcourse_exercises import quiz

quiz.show("06_capstone_your_own_data")

# %% [markdown]
# ## Key points
#
# - Audit before training (`tlcourse audit`): broken files, duplicates across splits and imbalance are found
#   in seconds, and a folder that cannot work is refused with a message, not a stack trace an hour later.
# - The test split is touched once, at the end; validation chooses (regularisation, epochs, which stage to
#   keep). Know which images your test accuracy comes from.
# - Always compare with a baseline: the gap between it and feature extraction is what transfer gives you
#   (the printed verdict says how wide it is on your folder).
# - Feature extraction is fast and strong on a small folder of photos close to ImageNet. Fine-tuning (LP-FT)
#   added 0.4 points on ants/bees and 0.5 on flowers on average over three seeds
#   (`benchmarks/capstone_recipe.py recipe`), less than the seeds' spread: keep it only where validation says
#   so, and read this run's verdict with its interval.
# - The recipe is a few lines of Keras (section 3): augmentation and rescaling in the model, the base frozen and
#   called with `training=False`, `fit`; then the top unfrozen with BatchNormalization kept frozen, `compile`
#   again at a lower rate, `fit` with early stopping.
# - Cache what stays frozen: cut the model in two (`split_classifier`), run the bottom of the base once per
#   photo, and train the head on the cache with the same `fine_tune` (compare the seconds an epoch in section 7).
# - Put the preprocessing inside the model and save as `.keras`: the file classifies raw photos and loads in
#   safe mode. `tlcourse train` runs the same recipe without Jupyter, on a time budget, and writes which
#   photos trained, chose and tested the model (`splits.json`) beside it.
#
# **Further reading**
# - Chollet, F. (2020). Transfer learning & fine-tuning. Keras developer guides, keras.io.
# - Kumar, A., Raghunathan, A., Jones, R., Ma, T. and Liang, P. (2022). Fine-tuning can distort pretrained features and underperform out-of-distribution. *ICLR*.
# - Northcutt, C. G., Athalye, A. and Mueller, J. (2021). Pervasive label errors in test sets destabilize machine learning benchmarks. *NeurIPS Datasets and Benchmarks*.
