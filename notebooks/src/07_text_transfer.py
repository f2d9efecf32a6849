# %% [markdown]
# # 07 Text transfer: a pretrained BERT encoder for review sentences
#
# The recipe of the image lessons (frozen base + new head, then fine-tuning, then a domain shift) works
# for language too. The base here is **all-MiniLM-L6-v2**, a 6-layer BERT (22.7 M parameters,
# Apache-2.0) loaded through KerasHub; the data are the UCI Sentiment Labelled Sentences: 1,000 review
# sentences each from Amazon, Yelp and IMDb, half positive.
#
# **You will learn**
# - what a BERT tokeniser does: word pieces, special tokens, padding, truncation, and what length costs
#   (at these lengths, the dense layers more than attention);
# - sentence embeddings from a frozen encoder (mean pooling that masks padding), cached, with a small head,
#   against TF-IDF and a Keras model trained from scratch, and with few labels;
# - fine-tuning the whole encoder at a low learning rate, pooled the way it was trained (mean, not `[CLS]`),
#   started from the fitted head (LP-FT);
# - a domain shift for text (Amazon to Yelp and IMDb) and what CORAL and a few target labels win back;
# - what a decoder (GPT) model is and how it is used for transfer.
#
# **Prerequisites:** 02-04 (features from a frozen base, fine-tuning, CORAL).
#
# **Terms:** [the course glossary](GLOSSARY.md).
#
# **Estimated time:** (generated from tlcourse/minutes.json)

# %%
import time

import keras
import keras_hub
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

import tlcourse
from tlcourse import adapt, claims, data, interactive, text
from tlcourse_exercises import text_transfer as ex

report = tlcourse.setup(seed=42)

# %% [markdown]
# The quick profile embeds a subset (500 Amazon sentences, 200 each of Yelp and IMDb) at 32 word pieces
# and fine-tunes for one epoch on the 400 training sentences; the full profile uses everything, 64 word
# pieces and three epochs.

# %%
PROFILE = report.profile
QUICK = PROFILE.name == "quick"
PRESET = text.DEFAULT_PRESET
SEQUENCE_LENGTH = 32 if QUICK else 64
AMAZON_N = 500 if QUICK else 1000          # 80% train, 20% test
TARGET_N = 200 if QUICK else 1000          # Yelp and IMDb sentences, for the shift
SIZES = [16, 32, 64, 128, None]             # labelled sentences (None: all)
SEEDS = list(range(PROFILE.seeds))
FEW_LABELS, FEW_SEEDS = 32, list(range(max(5, PROFILE.seeds)))  # section 4's claim: more seeds, it is cheap
FT_EPOCHS = 1 if QUICK else 3              # fine-tuning, on all the training sentences
TARGET_ACCURACY = 0.80                      # section 4: labels each method needs to reach it
FEW_TARGET = 16                             # labelled target sentences in section 5
times = {}

# %% [markdown]
# ## 1. The data and the base model
#
# `data.load_sentences` reads one site's file line by line. The encoder, its tokeniser and later the
# classifier load through KerasHub's `from_preset`; `text.load_text_model` makes the same calls and, where
# the model is neither cached nor downloadable, says what is missing and how to get it.

# %%
def subset(site, n, seed=0):
    texts, labels = data.load_sentences(site)
    idx = np.random.default_rng(seed).permutation(len(texts))[:n]
    return [texts[i] for i in idx], labels[idx]

amazon_x, amazon_y = subset("amazon", AMAZON_N)
n_train = int(0.8 * len(amazon_x))
x_train, y_train, x_test, y_test = amazon_x[:n_train], amazon_y[:n_train], amazon_x[n_train:], amazon_y[n_train:]
targets = {site: subset(site, TARGET_N) for site in ("yelp", "imdb")}
print(f"Amazon train {len(x_train)}, test {len(x_test)}; Yelp and IMDb {TARGET_N} each")
print(x_train[0], "->", y_train[0])

# %%
start = time.time()
backbone = text.load_text_model("backbone", PRESET)
tokenizer = text.load_text_model("tokenizer", PRESET)
times["load encoder"] = time.time() - start
print(f"loaded in {times['load encoder']:.1f} s: {backbone.count_params():,} parameters, "
      f"{backbone.num_layers} layers, {backbone.hidden_dim} wide, vocabulary {tokenizer.vocabulary_size():,}")
assert backbone.count_params() == text.TEXT_MODELS[PRESET]["params"]

# %% [markdown]
# ## 2. Tokenisation
#
# BERT reads **word pieces**: frequent words are one piece, rare ones are split (`##` marks a piece that
# continues a word). The preprocessor adds `[CLS]` at the start and `[SEP]` at the end, pads short
# sentences with `[PAD]` (id 0) and truncates long ones; the padding mask says which tokens are real.

# %%
print(text.word_pieces(tokenizer, "Unbelievably good headset, the earpiece broke though."))
preprocessor = keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=SEQUENCE_LENGTH)
batch = preprocessor(["Great phone!", x_train[0]])
print("token ids   ", np.asarray(batch["token_ids"][0][:10]))
print("padding mask", np.asarray(batch["padding_mask"][0][:10]).astype(int))
print([tokenizer.id_to_token(int(i)) for i in np.asarray(batch["token_ids"][0][:6])])

# %% [markdown]
# Every padded token is computed, so the length the preprocessor pads to sets the encoder's cost. How
# does that cost grow? Attention compares every token with every other, a part that grows with the
# square of the length n; but each layer also runs every token through dense layers (the query, key,
# value and output projections, and a feed-forward block four times as wide), a part that grows with n.
# Counting the multiply-adds of one layer from the encoder's own sizes:

# %%
d, ff = backbone.hidden_dim, backbone.intermediate_dim
for n in (32, 64, 128, 512, 4096):
    dense = n * (4 * d * d + 2 * d * ff)   # Q, K, V and output projections, and the feed-forward layers
    scores = 2 * n * n * d                 # Q times K transposed, and the weights times V
    print(f"{n:5d} tokens: the n^2 part is {scores / (dense + scores):5.1%} of a layer's multiply-adds")

# %% [markdown]
# At 32-64 word pieces the dense layers dominate and the cost grows about in proportion to the length:
# doubling it roughly doubles the work, not four times it; the square only takes over at thousands of
# tokens. How long are these sentences? IMDb's are longer; at 32 word pieces some of them lose their end.

# %%
for site, texts_ in [("amazon", x_train), *[(s, t[0]) for s, t in targets.items()]]:
    lengths = text.token_lengths(tokenizer, texts_)
    print(f"{site:7s} word pieces: median {np.median(lengths):3.0f}, 95th percentile "
          f"{np.percentile(lengths, 95):3.0f}, truncated at {SEQUENCE_LENGTH}: {np.mean(lengths > SEQUENCE_LENGTH - 2):.0%}")

# %% [markdown]
# ## 3. Feature extraction: sentence embeddings from the frozen encoder
#
# sentence-transformers trained this model so that the **mean of its token outputs** is the sentence's
# embedding. Padding must not count: multiply by the mask, divide by the number of real tokens. Here it
# is in plain Keras on one batch, checked against the helper that the rest of the lesson uses.

# %%
backbone.trainable = False
outputs = backbone(batch, training=False)
mask = keras.ops.cast(keras.ops.expand_dims(batch["padding_mask"], -1), "float32")
embedding = keras.ops.sum(outputs["sequence_output"] * mask, 1) / keras.ops.sum(mask, 1)
print("sequence output", tuple(outputs["sequence_output"].shape), "-> sentence embeddings", tuple(embedding.shape))
assert np.allclose(embedding, text.mean_pool(outputs["sequence_output"], batch["padding_mask"]), atol=1e-5)

# %% [markdown]
# The encoder is frozen, so each sentence's embedding is computed once and cached under `outputs/`
# (`text.cached_embeddings`); a second run reads the files.

# %%
start = time.time()
emb = {"train": text.cached_embeddings(backbone, preprocessor, x_train, name="amazon_train"),
       "amazon": text.cached_embeddings(backbone, preprocessor, x_test, name="amazon_test")}
for site, (texts_, _) in targets.items():
    emb[site] = text.cached_embeddings(backbone, preprocessor, texts_, name=site)
times["embeddings"] = time.time() - start
n_sentences = len(x_train) + len(x_test) + 2 * TARGET_N
print(f"{n_sentences} sentences in {times['embeddings']:.1f} s")

# %% [markdown]
# The head is a logistic regression on the 384 numbers: the same as a `Dense(1, "sigmoid")` layer,
# fitted in a fraction of a second. Two baselines use no pretraining at all: TF-IDF word counts with
# logistic regression, and a small Keras model (its own word embeddings, averaged) trained from scratch,
# once per seed. On a small training set the scratch model sees its sentences repeated, so that an epoch
# is not a handful of steps: the same number of updates, with less overhead.

# %%
def encoder_head(x_emb, y):
    return LogisticRegression(C=1.0, max_iter=2000).fit(x_emb, y)

def tfidf_model(texts_, y):
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(texts_)
    return vectorizer, LogisticRegression(C=10.0, max_iter=2000).fit(vectorizer.transform(texts_), y)

def scratch_model(texts_, y, seed=0, epochs=30):
    keras.utils.set_random_seed(seed)
    vectorize = keras.layers.TextVectorization(max_tokens=5000, output_sequence_length=SEQUENCE_LENGTH)
    vectorize.adapt(texts_)
    model = keras.Sequential([keras.Input((SEQUENCE_LENGTH,), dtype="int32"), keras.layers.Embedding(5000, 32),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dropout(0.3),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy", metrics=["accuracy"])
    repeat = max(1, 400 // len(texts_))  # an epoch of at least about 400 sentences
    model.fit(np.tile(np.asarray(vectorize(texts_)), (repeat, 1)), np.tile(y, repeat),
              epochs=max(1, round(epochs / repeat)), batch_size=16, verbose=0)
    return vectorize, model

def scratch_accuracy(scratch, texts_, y):
    vectorize, model = scratch
    return float(np.mean((model.predict(np.asarray(vectorize(texts_)), verbose=0)[:, 0] > 0.5) == y))

# %%
start = time.time()
head = encoder_head(emb["train"], y_train)
vectorizer, tfidf = tfidf_model(x_train, y_train)
scratches = [scratch_model(x_train, y_train, seed=seed) for seed in SEEDS]
scratch = scratches[0]
times["three models"] = time.time() - start
test_sets = {"amazon": (x_test, y_test), **targets}
acc = {"encoder + LR": {s: head.score(emb[s], y) for s, (_, y) in test_sets.items()},
       "TF-IDF + LR": {s: tfidf.score(vectorizer.transform(t), y) for s, (t, y) in test_sets.items()},
       "scratch Keras": {s: scratch_accuracy(scratch, t, y) for s, (t, y) in test_sets.items()}}
scratch_all = np.array([scratch_accuracy(m, x_test, y_test) for m in scratches])
for method, row in acc.items():
    print(f"{method:14s} Amazon {row['amazon']:.3f}")
print(f"scratch Keras over seeds {SEEDS}: {np.round(scratch_all, 3)}")

# %% [markdown]
# The encoder's head has no seed to vary (a logistic regression fitted to convergence); the scratch model
# has, so the comparison is over the scratch model's seeds:

# %%
encoder_all = [acc["encoder + LR"]["amazon"]] * len(SEEDS)
print(claims.conclusion(claims.compare(encoder_all, scratch_all), "the frozen encoder + LR",
                        "the Keras model trained from scratch", f"on Amazon with all {len(x_train)} labels"))

# %% [markdown]
# ## 4. Less data
#
# Does the pretrained encoder matter more where labels are few? Each method is trained on the first k
# sentences of a seeded shuffle of the training set (balanced by chance only), for each seed, and tested
# on the same held-out Amazon sentences.

# %%
start = time.time()
curve = {m: {} for m in acc}
for k in SIZES:
    for seed in FEW_SEEDS if k == FEW_LABELS else SEEDS:
        idx = np.random.default_rng(100 + seed).permutation(len(x_train))[: k or len(x_train)]
        if len(set(y_train[idx])) < 2:
            continue
        xs, ys = [x_train[i] for i in idx], y_train[idx]
        curve["encoder + LR"].setdefault(k, []).append(encoder_head(emb["train"][idx], ys).score(emb["amazon"], y_test))
        v, m = tfidf_model(xs, ys)
        curve["TF-IDF + LR"].setdefault(k, []).append(m.score(v.transform(x_test), y_test))
        if k is not None:  # "all" is section 3's scratch models
            s = scratch_model(xs, ys, seed=seed, epochs=max(30, 3000 // k))
            curve["scratch Keras"].setdefault(k, []).append(scratch_accuracy(s, x_test, y_test))
curve["scratch Keras"][None] = list(scratch_all)
times["learning curve"] = time.time() - start
for method, row in curve.items():
    print(f"{method:14s}", "  ".join(f"{k or 'all'}: {np.mean(v):.2f}±{np.std(v):.2f}" for k, v in row.items()))

# %% [markdown]
# Pretraining should matter most where labels are few (Howard and Ruder 2018 report that ULMFiT with 100
# labels matched training from scratch on 100 times more). So the course's claim is measured as a pair:
# the encoder against the scratch model with 32 labelled sentences (over five seeds: cheap here), and with all of them, where the
# scratch model has the most to learn from. Each seed labels the same sentences for every method.

# %%
few, many = claims.compare(curve["encoder + LR"][FEW_LABELS], curve["scratch Keras"][FEW_LABELS]), \
    claims.compare(curve["encoder + LR"][None], curve["scratch Keras"][None])
print(claims.conclusion(few, "the frozen encoder + LR", "a model from scratch", f"with {FEW_LABELS} labels"))
print(claims.conclusion(many, "the frozen encoder + LR", "a model from scratch", f"with all {len(x_train)} labels"))

# %%
lead = {k: np.array(curve["encoder + LR"][k]) - np.array(curve["TF-IDF + LR"][k]) for k in SIZES}
print("encoder minus TF-IDF:", "  ".join(f"{k or 'all'}: {g.mean():+.2f}" for k, g in lead.items()))
shrinks = claims.compare(lead[FEW_LABELS][: len(lead[None])], lead[None])  # paired: the seeds both ran
print(claims.conclusion(shrinks, "the lead over TF-IDF with 32 labels", f"the lead with all {len(x_train)}"))

# %% [markdown]
# Another way to read the curve: how many labelled sentences does each method need to reach a given
# accuracy? Between two measured sizes the mean accuracy is interpolated on a log scale of labels.

# %%
def labels_needed(row, target=TARGET_ACCURACY):
    sizes = [k or len(x_train) for k in row]
    means = [np.mean(v) for v in row.values()]
    for (k0, a0), (k1, a1) in zip(zip(sizes, means), zip(sizes[1:], means[1:])):
        if a0 >= target:
            return k0
        if a1 >= target:
            return round(np.exp(np.log(k0) + (target - a0) / (a1 - a0) * (np.log(k1) - np.log(k0))))
    return None

for method, row in curve.items():
    needed = labels_needed(row)
    print(f"{method:14s} reaches {TARGET_ACCURACY:.2f}: "
          + (f"with about {needed} labelled sentences" if needed else f"not within {len(x_train)}"))

# %% [markdown]
# Read the printed verdicts, not a rule. In the course's runs, with 16 sentences every method was close to
# guessing and which sentences were labelled moved the encoder's accuracy most (the widest spread), and
# with all the training sentences TF-IDF and the scratch model had more to learn from. The labels each method needs for the
# same accuracy are the practical form of "transfer needs less labelled data".
#
# ## 5. Fine-tuning the whole encoder
#
# KerasHub's `BertTextClassifier` puts a dense layer on the `[CLS]` token's output; but this encoder was
# trained (by sentence-transformers) so that the **mean** of its tokens is the sentence, and its `[CLS]`
# output was never trained to be one. So the classifier here pools the way the encoder was trained:
# `text.mean_pooled_classifier` is the backbone, masked mean pooling and one logit. Its logit starts
# from the logistic regression fitted on the frozen embeddings (LP-FT: linear probe, then fine-tune,
# Kumar et al. 2022), so fine-tuning starts where feature extraction ended; then all 22.7 M weights
# train at a low learning rate (AdamW, 3e-5) for `FT_EPOCHS` epoch(s) on all the training sentences. A
# second copy of the encoder is loaded for it: the frozen one still serves the cached embeddings.

# %%
keras.utils.set_random_seed(0)
tuned_backbone = text.load_text_model("backbone", PRESET)
tuned_backbone.get_layer("pooled_dense").trainable = False       # the [CLS] pooler: unused here
classifier = text.mean_pooled_classifier(tuned_backbone, head=(head.coef_.T, head.intercept_))
classifier.compile(optimizer=keras.optimizers.AdamW(3e-5), loss=keras.losses.BinaryCrossentropy(from_logits=True))
def tokens(texts_):
    return {k: np.asarray(v).astype("int32") for k, v in preprocessor(list(texts_)).items()}
start = time.time()
classifier.fit(tokens(x_train), y_train, batch_size=16, epochs=FT_EPOCHS, verbose=0)
times["fine-tuning per epoch"] = (time.time() - start) / FT_EPOCHS
ft_sets = {"amazon": (x_test, y_test)} if QUICK else test_sets
ft_correct = {s: (classifier.predict(tokens(t), batch_size=32, verbose=0)[:, 0] > 0) == y for s, (t, y) in ft_sets.items()}
acc["fine-tuned"] = {s: float(c.mean()) for s, c in ft_correct.items()}
print(f"{len(x_train)} sentences, {FT_EPOCHS} epoch(s), {times['fine-tuning per epoch']:.1f} s per epoch")

# %%
frozen_correct = head.predict(emb["amazon"]) == y_test
ft_vs_frozen = claims.compare_examples(ft_correct["amazon"], frozen_correct)  # one run: over the test sentences
print(claims.conclusion(ft_vs_frozen, "fine-tuning the encoder", "its frozen embeddings + LR", "on Amazon test"))

# %% [markdown]
# One run and 100 test sentences in the quick profile: the interval is over the test sentences, and the
# printed smallest detectable effect says how large a gain this set-up could have seen. On the full data
# (800 training sentences, 200 test sentences, 64 word pieces, three epochs, three seeds),
# `python benchmarks/text_transfer.py --sequence-length 64` fine-tunes the same mean-pooled model and
# prints its accuracy beside the frozen encoder's, epoch by epoch: in the course's run, 0.910, 0.900 and
# 0.905 after three epochs (seeds 0-2) against 0.840 for the frozen encoder's head, on the same 200 test
# sentences, where one sentence is half a point: with six times the quick profile's steps, every seed
# ended above the frozen head. Either way, fine-tuning costs seconds to minutes an epoch on a CPU, where
# the head on cached embeddings takes under a second.
#
# Now read a sentence of your own through the models above: its word pieces, and the probability that it
# is positive for the frozen encoder's head, the fine-tuned classifier, TF-IDF and the scratch model. In JupyterLab, type a negation ("not bad at all"), a
# rare word of praise ("scrumptious"), or a line from a film review, and see which models follow.

# %%
def draw_sentence(sentence):
    sentence = sentence.strip() or "(empty)"
    print("word pieces:", " ".join(text.word_pieces(tokenizer, sentence)))
    logit = classifier.predict(tokens([sentence]), verbose=0)[0, 0]
    vectorize, model = scratch
    p = {"encoder + LR": head.predict_proba(text.sentence_embeddings(backbone, preprocessor, [sentence]))[0, 1],
         "fine-tuned": 1 / (1 + np.exp(-logit)),
         "TF-IDF + LR": tfidf.predict_proba(vectorizer.transform([sentence]))[0, 1],
         "scratch Keras": model.predict(np.asarray(vectorize([sentence])), verbose=0)[0, 0]}
    for name, prob in p.items():
        print(f"{name:14s} P(positive) {prob:.2f} {'#' * int(round(20 * prob))}")

interactive.explore(draw_sentence, {"sentence": interactive.Text("The battery died after a day, not what I hoped.")},
                    title="one sentence through every model")

# %% [markdown]
# ## 6. Domain shift: Amazon to Yelp and IMDb
#
# The models above never saw Yelp or IMDb. Phones and restaurants share much of the vocabulary of
# praise; films less so, and IMDb sentences are longer.

# %%
for method, row in acc.items():
    print(f"{method:14s}", "  ".join(f"{s} {a:.3f}" for s, a in row.items()),
          "  loss to IMDb:", f"{row['amazon'] - row['imdb']:+.3f}" if "imdb" in row else "-")

# %% [markdown]
# One split is one draw. Re-split the 500 Amazon sentences three ways (400 to train, 100 to test) and
# measure each model's loss from Amazon's test sentences to its worse target site:

# %%
all_x, all_y, all_emb = x_train + x_test, np.r_[y_train, y_test], np.r_[emb["train"], emb["amazon"]]
drops = {"encoder + LR": [], "TF-IDF + LR": []}
for seed in SEEDS:
    order = np.random.default_rng(seed).permutation(len(all_x))
    tr, te = order[:n_train], order[n_train:]
    h, (v, m) = encoder_head(all_emb[tr], all_y[tr]), tfidf_model([all_x[i] for i in tr], all_y[tr])
    drops["encoder + LR"].append(h.score(all_emb[te], all_y[te]) - min(h.score(emb[s], y) for s, (_, y) in targets.items()))
    drops["TF-IDF + LR"].append(m.score(v.transform([all_x[i] for i in te]), all_y[te])
                                - min(m.score(v.transform(t), y) for t, y in targets.values()))
for method, d in drops.items():
    print(f"{method:14s} loss to the worse site: {np.mean(d):.3f} ± {np.std(d):.3f}")
keeps = claims.compare(-np.array(drops["encoder + LR"]), -np.array(drops["TF-IDF + LR"]))
print(claims.conclusion(keeps, "the frozen encoder", "TF-IDF", "in accuracy kept from Amazon to the worse site"))

# %% [markdown]
# Where TF-IDF loses more (the verdict above), the reason is plain: the words that mark sentiment in phone
# reviews are not those of film reviews, and a word it never saw counts for nothing. The encoder learnt on far more text than these 400 sentences.
#
# Can the course's tools close what is left? **CORAL** (04_domain_adaptation, here in its closed form,
# Sun et al. 2016) re-colours the Amazon embeddings with the target's covariance, using target sentences
# without labels (here the same sentences it is tested on, a transductive set-up). The other option is
# to label a few target sentences and add them to the training set.
#
# Which target sentences are labelled is a draw too: the table repeats it for each seed (CORAL and
# "source only" change only through the sentences held out for testing).

# %%
table = {site: {} for site in targets}
coral = {site: encoder_head(adapt.coral_align(emb["train"], emb[site], eps=0.1), y_train) for site in targets}
for (site, (t_texts, t_y)), seed in ((s, seed) for s in targets.items() for seed in SEEDS):
    rng = np.random.default_rng(seed)
    labelled = np.r_[rng.choice(np.flatnonzero(t_y == 1), FEW_TARGET // 2, replace=False),
                     rng.choice(np.flatnonzero(t_y == 0), FEW_TARGET // 2, replace=False)]
    rest = np.setdiff1d(np.arange(len(t_y)), labelled)   # test on the sentences not labelled
    def score(model, feats=emb[site]):
        return model.score(feats[rest], t_y[rest])
    for name, model in [("source only", head), ("CORAL (no labels)", coral[site]),
                        (f"+ {FEW_TARGET} target labels", encoder_head(np.r_[emb["train"], emb[site][labelled]], np.r_[y_train, t_y[labelled]])),
                        (f"only the {FEW_TARGET} target labels", encoder_head(emb[site][labelled], t_y[labelled]))]:
        table[site].setdefault(name, []).append(score(model))
gain = {site: {name: np.array(a) - np.array(row["source only"]) for name, a in row.items()} for site, row in table.items()}
for name in table["yelp"]:
    print(f"{name:28s}", "  ".join(f"{site} {np.mean(a):.3f} ({gain[site][name].mean():+.3f} ± {gain[site][name].std():.3f})"
                                   for site, a in ((s, table[s][name]) for s in table)))

# %% [markdown]
# Each remedy against source only, per site, paired over the draws; and CORAL where there is no shift,
# re-colouring the Amazon training embeddings with the covariance of the Amazon test sentences (each
# re-split of section 6's cell gives one pair). With a few hundred sentences in 384 dimensions the
# covariance CORAL matches is itself noisy, and its eps is fixed, not chosen on target labels.

# %%
add = f"+ {FEW_TARGET} target labels"
for name in ["CORAL (no labels)", add, f"only the {FEW_TARGET} target labels"]:
    for site in table:
        print(claims.conclusion(claims.compare(table[site][name], table[site]["source only"]), name, "source only", f"on {site}"))
coral_none = []
for seed in SEEDS:   # the no-shift control: the re-splits of section 6
    order = np.random.default_rng(seed).permutation(len(all_x))
    tr, te = order[:n_train], order[n_train:]
    plain = encoder_head(all_emb[tr], all_y[tr]).score(all_emb[te], all_y[te])
    aligned = encoder_head(adapt.coral_align(all_emb[tr], all_emb[te], eps=0.1), all_y[tr]).score(all_emb[te], all_y[te])
    coral_none.append(aligned - plain)
both_sites = {n: np.mean([table[s][n] for s in table], 0) - np.mean([table[s]["source only"] for s in table], 0)
              for n in ("CORAL (no labels)", add)}

# %%
coral_shift, coral_control = claims.compare(both_sites["CORAL (no labels)"]), claims.compare(coral_none)
print(claims.conclusion(coral_shift, "CORAL", "source only", "on Yelp and IMDb (mean of the two)"))
print(claims.conclusion(coral_control, "CORAL", "source only", "on Amazon (no shift)"))
few_gain = claims.compare(both_sites[add])
print(claims.conclusion(few_gain, f"adding {FEW_TARGET} target labels", "source only", "on Yelp and IMDb (mean)"))

# %% [markdown]
# Read the verdicts plainly: the frozen encoder already transfers well, so there is not much left to
# close, and the intervals say whether this run could tell what each remedy did. Sixteen target
# sentences alone are too few to train on; added to the source's, they are a cheap thing to try.

# %% [markdown]
# ## 7. GPT: decoder models
#
# BERT is an **encoder**: every token sees the whole sentence, and it was pretrained by filling in masked
# words, which makes it good at understanding a sentence. GPT is a **decoder**: each token sees only the
# tokens before it, and it was pretrained to predict the next token, which makes it a generator. It is
# used for transfer in two ways: **prompting** (write "Review: ... Sentiment:" and read the next word; no
# training) and **fine-tuning the causal language model** on your own text (`keras_hub.models.GPT2CausalLM`
# with `fit`, at a low learning rate, as above). No GPT weights are in this course's offline mirror, so
# this run only says whether one is cached; with internet, `GPT2CausalLM.from_preset("gpt2_base_en")`
# downloads about 500 MB and `generate("Review: the battery died. Sentiment:")` continues the text.

# %%
gpt_preset = "hf://openai-community/gpt2"
if text.hf_snapshot(gpt_preset) is None:
    print(f"{gpt_preset} is not in the Hugging Face cache ({text.hf_cache_dir()}): nothing to run offline.")
else:  # extra code - only where a GPT-2 is cached
    gpt = keras_hub.models.GPT2CausalLM.from_preset(gpt_preset)
    print(gpt.generate("Review: the battery died after a day. Sentiment:", max_length=20))

# %% [markdown]
# ## Exercises
#
# ### Exercise 1 (about 5 min)
# Write masked mean pooling in NumPy: `my_mean_pool(sequence_output, padding_mask)` takes an array
# `(batch, tokens, hidden)` and a boolean mask `(batch, tokens)` and returns `(batch, hidden)`, the mean
# over real tokens only.

# %%
def my_mean_pool(sequence_output, padding_mask):
    return None  # your code here

ex.check_mean_pool(my_mean_pool)  # NOT YET while it returns None

# %% [markdown]
# ### Exercise 2 (about 10 min)
# Write closed-form CORAL: `my_coral(source, target)` returns the source features whitened with the
# source covariance and re-coloured with the target covariance (add `1e-6` times the identity to both),
# moved to the target's mean. Hint: `np.linalg.eigh` gives a symmetric matrix's powers.

# %%
def my_coral(source, target):
    return None  # your code here

ex.check_coral_align(my_coral)  # NOT YET while it returns None

# %% [markdown] tags=["solution"]
# ### Solutions

# %% tags=["solution"]
def my_mean_pool(sequence_output, padding_mask):
    mask = padding_mask[..., None].astype(sequence_output.dtype)
    return (sequence_output * mask).sum(1) / np.maximum(mask.sum(1), 1)

assert ex.check_mean_pool(my_mean_pool)

# %% tags=["solution"]
def my_coral(source, target, eps=1e-6):
    def power(c, p):
        values, vectors = np.linalg.eigh(c)
        return (vectors * values ** p) @ vectors.T
    eye = eps * np.eye(source.shape[1])
    cs, ct = np.cov(source.T) + eye, np.cov(target.T) + eye
    return (source - source.mean(0)) @ power(cs, -0.5) @ power(ct, 0.5) + target.mean(0)

assert ex.check_coral_align(my_coral)

# %%
# extra code - where the time went in this run
for step, seconds in times.items():
    print(f"{step:22s} {seconds:6.1f} s")

# %% [markdown]
# ## Quiz
#
# Six questions on this lesson. Choose, tick or type an answer and press **Check**: the
# feedback says why it is right or wrong. Where widgets cannot be drawn (a terminal, a static page),
# the questions print as text, and `quiz.show("07_text_transfer", answers=True)` prints the answers.

# %%
from tlcourse_exercises import quiz

quiz.show("07_text_transfer")

# %% [markdown]
# ## Key points
# - The image recipe carries over to text: a frozen pretrained encoder, cached sentence embeddings and a
#   small head. Measure it as a pair: against a model from scratch with few labels and with all of them
#   (section 4; the printed verdicts say what this run found), and count the labels
#   each method needs to reach the same accuracy.
# - A BERT tokeniser splits rare words into word pieces and adds `[CLS]`/`[SEP]`; padding and truncation
#   fix the length. At 32-64 word pieces the dense layers, not attention's square, dominate the cost: it
#   grows about in proportion to the length.
# - Pool the way the encoder was trained: this one was trained for masked mean pooling, so its sentence
#   embedding, and the classifier you fine-tune, average the real tokens rather than read `[CLS]`.
# - Fine-tuning all 22.7 M weights at a low learning rate, started from the fitted head (LP-FT), is
#   possible on a CPU but far slower than a head on cached embeddings; the lesson prints what it won and
#   how large a gain its test set could have seen. Measure before you choose it.
# - Across sites, compare what each model keeps; CORAL and a few target labels are measured against source
#   only, with CORAL's no-shift control beside them. Measure on your target.
# - GPT-style decoders transfer by prompting or by fine-tuning the causal language model.
#
# **Further reading**
# - Devlin, J., Chang, M.-W., Lee, K. and Toutanova, K. (2019). BERT: Pre-training of deep bidirectional transformers for language understanding. *NAACL*.
# - Reimers, N. and Gurevych, I. (2019). Sentence-BERT: Sentence embeddings using Siamese BERT-networks. *EMNLP*.
# - Howard, J. and Ruder, S. (2018). Universal language model fine-tuning for text classification (ULMFiT). *ACL*.
# - Radford, A., Wu, J., Child, R., Luan, D., Amodei, D. and Sutskever, I. (2019). Language models are unsupervised multitask learners (GPT-2). OpenAI.
