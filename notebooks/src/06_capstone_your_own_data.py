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
# - to save a model that classifies raw image files, load it safely, and do all of it from the command line
#   (`tlcourse train`, `tlcourse predict`).
#
# **Prerequisites:** 02_feature_extraction, 03_fine_tuning (what the recipe does and why); 05_best_practices helps.
#
# **Terms:** [the course glossary](GLOSSARY.md).
#
# **Estimated time:** (generated from tlcourse/minutes.json)
# The computing takes longer on a big folder of your own.

# %%
import shutil
import tempfile
import time
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np

import tlcourse
from tlcourse import capstone, claims, cli, data, interactive, models, plots, settings
from tlcourse.exercises import capstone as exercises

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
OUT_DIR = "outputs/capstone"
SEED = 42
PROFILE = report.profile
BUDGET = 120 if PROFILE.name == "quick" else 600  # seconds the recipe plans its image size and epochs for
BATCH_SIZE = PROFILE.batch_size
BASE_MODEL, BASE_ALPHA = PROFILE.base_model, PROFILE.base_alpha
USING_DEFAULT = Path(FOLDER).resolve() == Path(DEFAULT_DIR).resolve()
print(f"folder: {FOLDER}\nprofile {PROFILE.name}: {BASE_MODEL} (alpha {BASE_ALPHA}), a budget of {BUDGET} s")

# %% [markdown]
# ## 1. Audit the folder before training
#
# Training on a folder nobody has looked at fails late and silently: a text file named `.jpg` stops an epoch
# half-way, a photo copied into both train and test inflates the test accuracy, a class with ten photos
# beside one with a thousand makes accuracy flatter a model that ignores it. So the audit opens and decodes
# every file once, hashes it to find exact duplicates (keeping one copy, in the evaluation split where there
# is one), and counts. Read its warnings.

# %%
audit = capstone.audit_folder(FOLDER)
print(audit)

# %% [markdown]
# A folder that cannot work is refused here, before any training, with a message that says what to change.
# Here is what a folder with one class, and a path that does not exist, look like:

# %%
bad = Path("outputs/capstone_bad_folder")
shutil.rmtree(bad, ignore_errors=True)
(bad / "only_class").mkdir(parents=True)
for f in audit.splits[next(iter(audit.splits))].files[:3]:
    shutil.copy(f, bad / "only_class")
for wrong in (bad, Path("outputs/no_such_folder")):
    try:
        capstone.audit_folder(wrong)
    except capstone.FolderError as exc:
        print("FolderError:", exc)

# %%
# extra code - two photos of each class, at the size the model sees
first = audit.splits[next(iter(audit.splits))]
idx = data.few_shot(first.labels, 2, seed=SEED)
plots.image_grid(data.load_images([first.files[i] for i in idx], image_size=160), first.labels[idx],
                 class_names=audit.class_names, ncols=8, title="a few photos per class");

# %% [markdown]
# ## 2. Train, validation, test
#
# The test images answer one question at the end: how well does the model do on photos it has never seen?
# Nothing may be chosen on them, not the epoch, not the regularisation strength, not which stage to keep.
# Those choices use the validation split. Where the folder has no test split, its `val` split serves as the
# test set and validation is carved out of `train`; the notes below say which. Every photo is used
# (`make_splits(..., max_per_class=N)` caps training and validation where time is short; the test split is
# always whole).

# %%
splits = capstone.make_splits(audit, seed=SEED)
print(splits)
assert not set(splits.train.files) & set(splits.test.files), "a test photo is also a training photo"

# %% [markdown]
# ### Exercise 1 (about 2 min)
#
# From which folder do the test images come (for a `<class>/*` folder answer `"carved"`), and how many are
# there? Read it from `splits`, then run the check.

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
pipeline = {name: data.make_dataset(split.files, split.labels, image_size=PLAIN_SIZE, batch_size=BATCH_SIZE,
                                    shuffle=name == "train", seed=SEED) for name, split in splits.items()}
augment = keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.1)], name="augment")
keras.utils.set_random_seed(SEED)
plain_base = models.load_base(BASE_MODEL, alpha=BASE_ALPHA, input_size=PLAIN_SIZE)
plain = classifier(len(audit.class_names), plain_base, image_size=PLAIN_SIZE, augment=augment)
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
plain.save("outputs/capstone_plain_recipe.keras")  # beside OUT_DIR, which holds the fast model
print(f"plain Keras recipe: test accuracy {plain_accuracy:.3f} on {len(splits.test.files)} photos, "
      f"{plain_seconds:.0f} s of training ({len(phase2.history['loss'])} of {FT_EPOCHS} fine-tuning epochs run)")
plots.learning_curves({"phase 1, head": phase1, "phase 2, top unfrozen": phase2}, metrics=["loss", "accuracy"]);

# %% [markdown]
# ## 4. The same recipe, made fast: cache what stays frozen
#
# Every epoch above sent each photo through the whole frozen bottom of the base again, to compute exactly the
# activations it computed the epoch before. The fast version computes them once (`models.split_at`, introduced
# in 03): the model is `classifier` (without augmentation layers: the cache holds each photo and its mirror
# image instead of random flips), cut at the same layer, and the top blocks and head train on the cached
# activations with `fine_tune`, the function above. Phase 1 becomes a closed-form fit of the softmax layer
# (section 6), which needs no learning rate and no epoch count to guess. How big an image, how many epochs? The
# photos suggest a size (no larger than most of them); a linear probe on the frozen base's pooled features at
# that size, at 224 and at 160 px, scored on validation, overrules the suggestion where validation can tell
# another size is better (`claims.compare_examples`, the rule of 04; a few dozen validation photos rarely can).
# Then the plan times this machine on a few photos and chooses the most epochs that fit what is left of `BUDGET`.

# %%
model, base, parts, plan, speed = capstone.planned_model(audit, splits, budget=BUDGET, base_name=BASE_MODEL,
                                                        alpha=BASE_ALPHA)
print(speed, plan, sep="\n")
IMAGE_SIZE = plan.image_size

# %%
cache = capstone.cache_splits(parts.bottom, splits, image_size=IMAGE_SIZE, batch_size=BATCH_SIZE)
print(f"cached {', '.join(f'{k} {len(v)}' for k, v in cache.splits.items())} in {cache.seconds:.1f} s "
      f"({cache.megabytes:.0f} MB); train_flipped holds the mirror image of each training photo")

# %% [markdown]
# ## 5. A baseline without pretraining
#
# A number means little alone. The baseline is what the photos give without any transfer: a logistic
# regression on 16x16 colour thumbnails (colour and rough layout, nothing more). Chance is one over the number
# of classes (or the share of the largest class, if the test set is imbalanced).

# %%
base_line = capstone.baseline(cache)
chance = np.bincount(cache["test"].labels).max() / len(cache["test"])
print(base_line, f"\nlargest-class share of the test set: {chance:.3f}")
capstone.show_stage(base_line, cache, audit.class_names);

# %% [markdown]
# ## 6. Feature extraction, then fine-tuning (LP-FT)
#
# The softmax layer is a logistic regression on the base's pooled features: the stage fits it directly on the
# cached features of the training photos and their mirror images, choosing its strength on the validation split
# (on a folder nobody has seen there is no chance to tune a learning rate and an epoch count by hand).

# %%
fe = capstone.feature_extraction(parts.head, parts.pooled, cache, seed=SEED, verbose=1)
print(fe)
capstone.show_stage(fe, cache, audit.class_names);

# %% [markdown]
# Fine-tuning starts from that fitted head (LP-FT: linear probe, then fine-tune, Kumar et al. 2022, who argue
# that a random head sends large gradients into the pretrained blocks before it has learnt anything). It is
# section 3's `fine_tune` on the cached activations: the top blocks of the base (BatchNormalization frozen, in
# inference mode) and the head at a low rate; each of the plan's rates starts from the same weights, and
# validation picks the rate and the epoch. If fine-tuning does not
# beat feature extraction on validation accuracy, the model goes back to the feature-extraction weights: with a
# few dozen validation photos that is a coarse test, and the validation split, not the test, decides.

# %%
if plan.epochs:
    ft = capstone.fine_tune(parts.head, parts.top, cache, epochs=plan.epochs, learning_rates=plan.learning_rates,
                            batch_size=BATCH_SIZE, seed=SEED, previous=fe, verbose=0)
    print(ft, "| rate", ft.history["learning_rate"][0], "| epoch", ft.history["epoch"][0],
          "| fine-tuned weights kept:", bool(ft.history["kept"][0]))
    capstone.show_stage(ft, cache, audit.class_names);
else:
    ft = fe
    print("no fine-tuning within the budget:", plan.notes)

# %%
# extra code - validation accuracy per epoch of each rate tried
curves = {k.split("@")[1]: {"accuracy": ft.history[k.replace("val_", "")], "val_accuracy": v}
          for k, v in ft.history.items() if k.startswith("val_accuracy@")}
if curves:
    plots.learning_curves(curves, metrics=["accuracy"], title="LP-FT: training and validation accuracy by rate");

# %% [markdown]
# ## 7. The stages side by side
#
# The plain recipe of section 3 stands beside the cached stages: the same model and the same fine-tuning
# function, at 160 px with random augmentation, against the plan's size, mirror images and a closed-form head.
# Their seconds are not comparable as totals (the plan spends its budget on a larger size and more epochs);
# the seconds an epoch are: read them below, bearing in mind that an epoch of the cached recipe sees twice as
# many images, each larger.
# On the ants/bees photos (ImageNet photos, close to what the base was trained on), transfer should beat the
# baseline by a wide margin; on your folder the margins are yours to find. With only a few dozen validation
# photos, small differences between feature extraction and fine-tuning are hard to see: one test photo is
# 1/153 of the ants/bees test accuracy (`benchmarks/capstone_recipe.py` repeats the recipe over seeds and
# prints the spread).

# %%
results = {"plain Keras recipe": plain_accuracy, **{r.name: r.test_accuracy for r in (base_line, fe, ft)}}
plots.bar_comparison(results, title="test accuracy");
for name, acc in results.items():
    print(f"{name:>20}: {acc:.3f}  ({len(cache['test'])} test images)")
plain_epochs = HEAD_EPOCHS + len(phase2.history["loss"])
print(f"plain recipe: {plain_epochs} epochs in {plain_seconds:.0f} s at {PLAIN_SIZE} px, "
      f"{plain_seconds / plain_epochs:.1f} s an epoch")
fast_epochs = sum(len(v) for k, v in ft.history.items() if k.startswith("loss@"))  # every rate's epochs
if fast_epochs:
    print(f"cached recipe: {fast_epochs} fine-tuning epochs in {ft.seconds:.0f} s at {IMAGE_SIZE} px, each photo and "
          f"its mirror image, {ft.seconds / fast_epochs:.1f} s an epoch, after caching once in {cache.seconds:.0f} s")

# %% [markdown]
# How sure are these differences? This run has one seed, so the spread here is that of the test photos: a
# paired bootstrap (resample the test photos, with replacement, 2,000 times; each stage is scored on the same
# resample) gives the standard error of each difference, and `claims.compare_examples` turns it into a 95%
# interval and a verdict.

# %%
correct = {r.name: r.predictions == cache["test"].labels for r in (base_line, fe, ft)}
transfer = claims.compare_examples(correct[fe.name], correct[base_line.name], seed=SEED)
lpft = claims.compare_examples(correct[ft.name], correct[fe.name], seed=SEED)
print(claims.conclusion(transfer, "feature extraction", "the baseline", "on the test photos"))
print(claims.conclusion(lpft, f"LP-FT ({ft.name} kept)", "feature extraction", "on the test photos"))

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
# `cache["test"].labels` (the true labels) and `ft.predictions`.

# %%
per_class = None  # your answer: {"ants": ..., "bees": ...}
# %%
print(exercises.check_per_class_accuracy(per_class, cache["test"].labels, ft.predictions, audit.class_names))

# %% [markdown]
# ## 8. Save, reload, predict a new photo
#
# `capstone.save` writes `model.keras` and the class names; `capstone.load` reads them back in Keras's safe
# mode (the default of `keras.saving.load_model`, which refuses files with `Lambda` layers). `predict` takes
# image files: it decodes and resizes them as the training images were, and reports a file it cannot read
# instead of stopping.

# %%
capstone.save(model, audit.class_names, OUT_DIR)
reloaded, classes = capstone.load(OUT_DIR)
test_images = data.load_images(splits.test.files, image_size=IMAGE_SIZE)
same = np.allclose(capstone.predict_proba(reloaded, test_images), ft.probabilities, atol=1e-4)
print("reloaded model gives the same test probabilities:", same)
assert same and classes == audit.class_names

# %%
new_photos = splits.test.files[:3] + [str(bad / "no_photo_here.jpg")]
for p in capstone.predict(OUT_DIR, new_photos):
    print(p)

# %% [markdown]
# Now a photo of your own. In JupyterLab, press **upload** and pick a photo from your computer: the saved
# model, reloaded above, gives its class probabilities. Try a photo of neither class (it still has to choose
# one of them, often with confidence), and a file that is not a photo. Until you upload, the cell shows the
# first test photo.

# %%
sample_photo = Path(splits.test.files[0]).read_bytes()

def draw_upload(photo):  # photo: the uploaded file's bytes, or sample_photo until you upload
    with tempfile.TemporaryDirectory() as folder:  # read_rgb reads files: the upload goes through one
        path = Path(folder) / "upload"
        path.write_bytes(photo)
        try:
            pixels = data.read_rgb(path, IMAGE_SIZE)
        except data.ImageReadError as exc:
            print(f"this upload cannot be read: {exc.reason}")
            return
    probabilities = capstone.predict_proba(reloaded, pixels[None])[0]
    _, (left, right) = plt.subplots(1, 2, figsize=(8, 3), gridspec_kw={"width_ratios": [1, 1.4]})
    left.imshow(pixels); left.axis("off"); left.set_title(f"as the model sees it ({IMAGE_SIZE} px)", fontsize=9)
    right.barh(classes, probabilities); right.set_xlim(0, 1); right.set_xlabel("probability")
    print(", ".join(f"{name} {p:.3f}" for name, p in zip(classes, probabilities)))

interactive.explore(draw_upload, {"photo": interactive.Upload(default=sample_photo)},
                    title="your photo through the saved model")

# %% [markdown]
# ## 9. The same recipe without Jupyter
#
# The command line runs the same functions: audit, plan, cache, baseline, feature extraction, LP-FT, printing
# progress and each stage's test accuracy, and writes `model.keras`, `classes.json` and `report.json` (test
# accuracies, the plan, seconds per stage) to the output folder. `--budget SECONDS` (default 240) sets what it
# plans for; `--image-size` and `--fine-tune-epochs` fix what it would choose, `--max-per-class N` caps the
# photos used for training. A folder that is wrong gets the same message as above, with a non-zero exit code.
#
# ```bash
# tlcourse train path/to/my_photos --out runs/my_photos      # --budget 600 for ten minutes
# tlcourse predict runs/my_photos new_photo.jpg another.png
# ```
#
# Here `predict` runs on the model this notebook saved (the same function the command calls):

# %%
exit_code = cli.main(["predict", OUT_DIR, splits.test.files[0]])
print("exit code:", exit_code)

# %% [markdown] tags=["solution"]
# ## Solutions

# %% [markdown] tags=["solution"]
# Exercise 1: the notes of `splits` say where the test images come from.

# %% tags=["solution"]
test_from = "carved" if any("stratified split" in n for n in splits.notes) else splits.test.root.name
n_test = len(splits.test.files)
result = exercises.check_test_split(test_from, n_test, splits)
print(result)
assert result

# %% [markdown] tags=["solution"]
# Exercise 2: the recall of each class, the diagonal of the confusion matrix before normalising.

# %% tags=["solution"]
y_true, y_pred = cache["test"].labels, ft.predictions
per_class = {name: float(np.mean(y_pred[y_true == i] == i)) for i, name in enumerate(audit.class_names)}
result = exercises.check_per_class_accuracy(per_class, y_true, y_pred, audit.class_names)
print(per_class, result, sep="\n")
assert result

# %% [markdown]
# ## Quiz
#
# Five questions on this lesson. Choose, tick or type an answer and press **Check**: the
# feedback says why it is right or wrong. Where widgets cannot be drawn (a terminal, a static page),
# the questions print as text, and `quiz.show("06_capstone_your_own_data", answers=True)` prints the answers.

# %%
from tlcourse import quiz

quiz.show("06_capstone_your_own_data")

# %% [markdown]
# ## Key points
#
# - Audit before training: broken files, duplicates across splits and imbalance are found in seconds, and a
#   folder that cannot work is refused with a message, not a stack trace an hour later.
# - The test split is touched once, at the end; validation chooses (regularisation, epochs, which stage to
#   keep). Know which images your test accuracy comes from.
# - Always compare with a baseline: the gap between it and feature extraction is what transfer gives you
#   (the printed verdict says how wide it is on your folder).
# - Feature extraction is fast and strong on a small folder of photos close to ImageNet. Fine-tuning (LP-FT)
#   added 0.7 points on ants/bees and 0.7 on flowers on average over three seeds
#   (`benchmarks/capstone_recipe.py recipe`), less than the seeds' spread: keep it only where validation says
#   so, and read this run's verdict with its interval.
# - The recipe is a few lines of Keras (section 3): augmentation and rescaling in the model, the base frozen and
#   called with `training=False`, `fit`; then the top unfrozen with BatchNormalization kept frozen, `compile`
#   again at a lower rate, `fit` with early stopping.
# - Cache what stays frozen: the bottom of the base runs once per photo, and every stage trains on the cache
#   (compare the seconds an epoch printed in section 7).
# - Put the preprocessing inside the model and save as `.keras`: the file classifies raw photos and loads in
#   safe mode. `tlcourse train` and `tlcourse predict` do the same without Jupyter.
#
# **Further reading**
# - Chollet, F. (2020). Transfer learning & fine-tuning. Keras developer guides, keras.io.
# - Kumar, A., Raghunathan, A., Jones, R., Ma, T. and Liang, P. (2022). Fine-tuning can distort pretrained features and underperform out-of-distribution. *ICLR*.
# - Northcutt, C. G., Athalye, A. and Mueller, J. (2021). Pervasive label errors in test sets destabilize machine learning benchmarks. *NeurIPS Datasets and Benchmarks*.
