# %% [markdown]
# # 06 Capstone: transfer learning on your own photos
#
# A lab: you bring a folder of photos, the notebook brings the recipe of the course, end to end. It runs
# unchanged on any folder of photos in two to a few dozen classes; by default on the ants/bees photos.
#
# **You will learn**
# - to audit a folder of images before training: counts, sizes, broken and duplicate files, imbalance;
# - to make an honest train/validation/test split, and to know which images the test accuracy comes from;
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
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import tlcourse
from tlcourse import capstone, claims, cli, data, interactive, plots, settings
from tlcourse.exercises import capstone as exercises

report = tlcourse.setup(seed=42)
ledger = claims.Ledger("06_capstone_your_own_data")           # the headline figures, in outputs/claims/

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
# ## 3. The model, cut where the base stays frozen
#
# The model takes raw pixels: its first layer, a Keras `Rescaling` layer, maps [0, 255] to the [-1, 1] the
# MobileNets were trained on, then the ImageNet base, average pooling, and a softmax layer. Keeping the
# preprocessing *inside* the model means the saved file classifies a photo as it is, and that it loads without
# unsafe deserialisation (a `Lambda` layer would need it, see 05_best_practices).
#
# Everything below trains on a cache. The bottom of the base (up to `block_13_expand`) stays frozen in every
# stage, so what it computes for each photo is computed once (`models.split_at`, introduced in 03): the top
# blocks and the head then train on the cached activations, the same computation in a fraction of the time.
# How big an image, how many epochs? The recipe times this machine on a few of the folder's photos, then
# chooses the largest size (up to 224 px, no larger than most photos) and the most epochs that fit `BUDGET`.

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
# ## 4. A baseline without pretraining
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
# ## 5. Feature extraction, then fine-tuning (LP-FT)
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
# that a random head sends large gradients into the pretrained blocks before it has learnt anything). The top blocks of
# the base (BatchNormalization frozen, in inference mode) and the head train at a low rate; each of the plan's
# rates starts from the same weights, and validation picks the rate and the epoch. If fine-tuning does not
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
# ## 6. The three stages side by side
#
# On the ants/bees photos (ImageNet photos, close to what the base was trained on), transfer should beat the
# baseline by a wide margin; on your folder the margins are yours to find. With only a few dozen validation
# photos, small differences between feature extraction and fine-tuning are hard to see: one test photo is
# 1/153 of the ants/bees test accuracy (`benchmarks/capstone_recipe.py` repeats the recipe over seeds and
# prints the spread).

# %%
results = {r.name: r.test_accuracy for r in (base_line, fe, ft)}
plots.bar_comparison(results, title="test accuracy");
for name, acc in results.items():
    print(f"{name:>20}: {acc:.3f}  ({len(cache['test'])} test images)")

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
# feature-extraction weights, the two stages are the same model and the difference is exactly zero. The
# ledger records both; on a folder of your own the verdicts follow your figures.

# %%
folder_name = "the ants/bees photos" if USING_DEFAULT else Path(FOLDER).name
ledger.record("transfer beats a baseline without pretraining on the capstone folder", section="6",
              figure="feature extraction minus a logistic regression on 16x16 thumbnails, test accuracy",
              comparison=transfer, condition=f"{folder_name}, one run, interval over the test photos (paired bootstrap)")
ledger.record("LP-FT improves on feature extraction on the capstone folder", section="6",
              figure="LP-FT (kept on validation) minus feature extraction, test accuracy",
              comparison=lpft, condition=f"{folder_name}, one run, interval over the test photos (paired bootstrap)",
              note="benchmarks/capstone_recipe.py recipe, seeds 0-2: a mean gain smaller than the seeds' spread "
                   "on ants/bees and on the flowers")

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
# ## 7. Save, reload, predict a new photo
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

def draw_upload(photo):
    content = interactive.uploaded_bytes(photo, default=sample_photo)
    with tempfile.TemporaryDirectory() as folder:  # read_rgb reads files: the upload goes through one
        path = Path(folder) / "upload"
        path.write_bytes(content)
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

interactive.explore(draw_upload, {"photo": interactive.Upload()}, title="your photo through the saved model")

# %% [markdown]
# ## 8. The same recipe without Jupyter
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
#   added 0.7 points on ants/bees and 1.2 on flowers on average over three seeds
#   (`benchmarks/capstone_recipe.py recipe`), less than the seeds' spread: keep it only where validation says
#   so, and read this run's verdict with its interval.
# - Cache what stays frozen: the bottom of the base runs once per photo, and every stage trains on the cache.
# - Put the preprocessing inside the model and save as `.keras`: the file classifies raw photos and loads in
#   safe mode. `tlcourse train` and `tlcourse predict` do the same without Jupyter.
#
# **Further reading**
# - Chollet, F. (2020). Transfer learning & fine-tuning. Keras developer guides, keras.io.
# - Kumar, A., Raghunathan, A., Jones, R., Ma, T. and Liang, P. (2022). Fine-tuning can distort pretrained features and underperform out-of-distribution. *ICLR*.
# - Northcutt, C. G., Athalye, A. and Mueller, J. (2021). Pervasive label errors in test sets destabilize machine learning benchmarks. *NeurIPS Datasets and Benchmarks*.
