# %% [markdown]
# # 00 Set-up check: is this machine ready for the course?
#
# Run this notebook before a workshop (or before you start alone). It takes about a minute.
#
# **You will learn**
# - what `tlcourse.setup()` switches on: seeds, devices, precision, the profile that sizes every lesson;
# - whether the course's data sets and pretrained weights are here, and how to get what is missing;
# - how fast this machine trains, and how long the course will take on it.
#
# **Prerequisites:** Python and a first Keras model (`compile`, `fit`).
#
# **Terms:** [the course glossary](GLOSSARY.md).
#
# **Estimated time:** (generated from tlcourse/minutes.json)

# %%
import numpy as np

import tlcourse
from tlcourse import data, models, plots, runtime

report = tlcourse.setup(seed=42)

# %% [markdown]
# The report above is what every lesson starts with. Its last lines name the **profile**: `quick` on a
# laptop CPU and in the tests (small images, subsets, few epochs), `full` on a GPU (whole data sets,
# 224-px images, more epochs). Set the environment variable `TLCOURSE_PROFILE` to override the choice.
# Lessons read their sizes from the profile, so the same cells run on a 2-core laptop and on a GPU.

# %%
PROFILE = report.profile
IMAGE_SIZE = PROFILE.image_size
BASE_MODEL = PROFILE.base_model
BASE_ALPHA = PROFILE.base_alpha
print(PROFILE.as_dict())

# %% [markdown]
# ## 1. Devices, precision, strategy
#
# On a GPU, `setup()` turns on *memory growth* (TensorFlow takes GPU memory as it needs it instead of
# all at once), *mixed precision* (`mixed_float16`) on GPUs with tensor cores, and a `MirroredStrategy`
# when there are several GPUs: build models inside `report.strategy.scope()` and Keras splits each
# batch across them. On a CPU none of that applies, and ops are made deterministic so that a seeded run
# gives the same numbers every time.

# %%
print("GPUs:", report.gpus or "none")
print("precision policy:", report.precision_policy)
print("replicas in sync:", report.replicas)
if not report.gpus:
    assert report.precision_policy == "float32" and report.replicas == 1

# %% [markdown]
# ## 2. Data, weights and speed: `tlcourse doctor`
#
# The course looks for its data in the data directory (`$TLCOURSE_DATA_DIR`) and for ImageNet weights
# in the Keras cache (`$KERAS_HOME/models`) before it downloads anything. An instructor can prepare a
# classroom mirror once (`tlcourse fetch`), and point thirty laptops at it.
#
# The course's command checks all of it. In a terminal you would type `tlcourse doctor --time`;
# `runtime.run_command` runs the same command from this notebook. It prints the set-up report again, what the
# course needs and whether it is here, then times one fine-tuning step of the base: the first call traces the
# graph, which takes a while; later steps are the real speed. Its estimate adds, per notebook, the minutes to
# teach (or read) it, the minutes its exercises take, and its computing: the minutes it took on the course's
# test machine (2 CPU cores), scaled by how fast this machine trains (on a GPU, the course map's estimate).
# Exit code 0 means ready; 1, something is missing (the lines above it say what, and how to get it).

# %%
exit_code = runtime.run_command("doctor", "--time", "--profile", PROFILE.name)
print("exit code:", exit_code)

# %% [markdown]
# Where something is missing and there is internet, `tlcourse fetch` downloads it; offline, the next cells
# stop with a message that names what is missing.

# %%
if exit_code and not data.offline():
    exit_code = runtime.run_command("fetch", "--profile", PROFILE.name)

# %% [markdown]
# Every data set the course uses, counted. The numbers below are checked by the tests: if a copy of the
# data has lost or gained files, this cell says so.

# %% tags=["nbval-check-output"]
flowers = data.scan_images(data.dataset_path("flowers"))
ants_bees = {split: data.scan_images(data.dataset_path("hymenoptera") / split) for split in ("train", "val")}
print(f"flowers: {len(flowers)} photos, classes {flowers.class_names}")
for split, folder in ants_bees.items():
    print(f"ants/bees {split}: {folder.counts()}, skipped {len(folder.skipped)}")
print("MNIST test:", data.load_mnist()[0].shape)
for split in ("train", "test"):
    print(f"USPS {split}:", data.load_usps(split, size=16)[0].shape)
for site in ("amazon", "imdb", "yelp"):
    texts, labels = data.load_sentences(site)
    print(f"{site}: {len(texts)} sentences, {int(labels.sum())} positive")

# %% [output]
# flowers: 4317 photos, classes ['daisy', 'dandelion', 'rose', 'sunflower', 'tulip']
# ants/bees train: {'ants': 123, 'bees': 121}, skipped 1
# ants/bees val: {'ants': 70, 'bees': 83}, skipped 0
# MNIST test: (10000, 28, 28, 1)
# USPS train: (7291, 16, 16, 1)
# USPS test: (2007, 16, 16, 1)
# amazon: 1000 sentences, 500 positive
# imdb: 1000 sentences, 500 positive
# yelp: 1000 sentences, 500 positive

# %% [markdown]
# Real data is untidy. The ants/bees training folder holds one file the loader refused; it says which
# and why, instead of crashing in the middle of an epoch:

# %%
print(ants_bees["train"].summary().splitlines()[-1])

# %%
# extra code - a few images of each data set
idx = data.few_shot(flowers.labels, 1, seed=0)
plots.image_grid(data.load_images([flowers.files[i] for i in idx], image_size=IMAGE_SIZE),
                 flowers.labels[idx], class_names=flowers.class_names, ncols=5, title="flowers")
x_mnist, y_mnist = data.load_mnist()
x_usps, y_usps = data.load_usps("test")
plots.image_grid(np.concatenate([x_mnist[:6], x_usps[:6]]), np.concatenate([y_mnist[:6], y_usps[:6]]),
                 ncols=6, title="MNIST (top) and USPS (bottom)");

# %% [markdown]
# ## 3. The pretrained base model
#
# Loading goes through Keras's own call, `keras.applications.MobileNetV2(weights="imagenet", ...)`,
# which reads the cache first. Offline, only the small MobileNets are mirrored; a missing file is an
# error that names it, never a silent switch to random weights.

# %%
base = models.load_base(BASE_MODEL, alpha=BASE_ALPHA, input_size=IMAGE_SIZE)
print(base.name, "output", base.output_shape, models.trainable_summary(base))

# %% [markdown]
# %% [markdown]
# ## Exercises
#
# ### Exercise 1 (about 1 min)
# Which profile is this machine on? Read the report printed by `tlcourse.setup()` and set `MY_PROFILE`.

# %%
from tlcourse_exercises import setup_check

MY_PROFILE = None  # your answer: "quick" or "full"
print(setup_check.check_profile(MY_PROFILE, report))

# %% [markdown]
# ### Exercise 2 (about 2 min)
# One file in the ants/bees training folder is not a photo. Find its path with `tlcourse.data`
# (hint: `scan_images` keeps a list of what it skipped) and set `SKIPPED`.

# %%
SKIPPED = None  # your answer: a path
print(setup_check.check_skipped_file(SKIPPED))

# %% [markdown] tags=["solution"]
# ### Solutions

# %% tags=["solution"]
MY_PROFILE = report.profile.name
assert setup_check.check_profile(MY_PROFILE, report)
folder = data.scan_images(data.dataset_path("hymenoptera") / "train")
SKIPPED = folder.skipped[0][0]
result = setup_check.check_skipped_file(SKIPPED)
print(result)
assert result

# %% [markdown]
# ## Key points
#
# - One call, `tlcourse.setup(seed=...)`, seeds everything, sets up the devices and picks the profile
#   that sizes each lesson for this machine.
# - Data and weights are looked for in a mirror or cache first; what is missing is named, with the
#   two ways to get it (`tlcourse fetch` with internet, or a mirror).
# - Real data has broken files: the loader skips and reports them before training starts.
# - The first training step traces the graph and is slow; the speed after it is what counts.
#
# **Further reading**
# - Chollet, F. (2021). *Deep Learning with Python*, 2nd edition. Manning.
# - Chollet, F. (2020). Transfer learning & fine-tuning. Keras developer guides, keras.io.
