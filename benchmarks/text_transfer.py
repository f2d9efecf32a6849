"""Figures behind 07_text_transfer on all the data: encoder embeddings, TF-IDF, CORAL, few labels.

Run (offline mirror variables set, under the CPU lock for honest times):
    flock /tmp/tlcourse-cpu.lock python benchmarks/text_transfer.py --sequence-length 64
Prints in-domain and cross-domain accuracy (Amazon 800 train / 200 test; Yelp and IMDb all 1,000),
a learning curve over seeds, closed-form CORAL at several eps, then fine-tunes the whole encoder on the
800 training sentences for each of ``--fine-tune-seeds`` seeds, as 07_text_transfer does: pooled the way
it was trained (masked mean, `text.mean_pooled_classifier`), its logit started from the logistic
regression on the frozen embeddings (LP-FT), AdamW 3e-5, batch 16; it prints the test accuracy after
each epoch beside the frozen encoder's, and the time of each epoch. ``--fine-tune-seeds 0`` leaves fine-tuning out.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from tlcourse import adapt, data, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequence-length", type=int, default=64)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--cache-dir", default="outputs/features")
    parser.add_argument("--fine-tune-seeds", type=int, default=3)
    parser.add_argument("--fine-tune-epochs", type=int, default=3)
    args = parser.parse_args()
    import keras_hub

    start = time.time()
    backbone, tokenizer = text.load_text_model("backbone"), text.load_text_model("tokenizer")
    print(f"load encoder {time.time() - start:.1f} s")
    pre = keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=args.sequence_length)
    sets = {s: data.load_sentences(s) for s in ("amazon", "yelp", "imdb")}
    emb = {}
    for site, (texts, _) in sets.items():
        start = time.time()
        emb[site] = text.cached_embeddings(backbone, pre, texts, name=f"bench_{site}", cache_dir=args.cache_dir)
        print(f"embed {site} ({len(texts)}): {time.time() - start:.1f} s")
    x, y = sets["amazon"]
    order = np.random.default_rng(0).permutation(len(x))
    tr, te = order[:800], order[800:]
    lr = LogisticRegression(C=1.0, max_iter=2000).fit(emb["amazon"][tr], y[tr])
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit([x[i] for i in tr])
    tf = LogisticRegression(C=10.0, max_iter=2000).fit(vec.transform([x[i] for i in tr]), y[tr])
    print("method          amazon  yelp   imdb")
    print("encoder + LR   ", f"{lr.score(emb['amazon'][te], y[te]):.3f}",
          *(f"{lr.score(emb[s], sets[s][1]):.3f}" for s in ("yelp", "imdb")))
    print("TF-IDF + LR    ", f"{tf.score(vec.transform([x[i] for i in te]), y[te]):.3f}",
          *(f"{tf.score(vec.transform(sets[s][0]), sets[s][1]):.3f}" for s in ("yelp", "imdb")))
    for eps in (0.01, 0.1, 1.0):
        row = []
        for s in ("yelp", "imdb"):
            aligned = adapt.coral_align(emb["amazon"][tr], emb[s], eps=eps)
            row.append(LogisticRegression(C=1.0, max_iter=2000).fit(aligned, y[tr]).score(emb[s], sets[s][1]))
        print(f"CORAL eps {eps:<5}       ", *(f"{a:.3f}" for a in row))
    for k in (16, 32, 64, 128, 256, 800):
        enc, tfi = [], []
        for seed in range(args.seeds):
            idx = tr[np.random.default_rng(100 + seed).permutation(800)[:k]]
            if len(set(y[idx])) < 2:
                continue
            enc.append(LogisticRegression(C=1.0, max_iter=2000).fit(emb["amazon"][idx], y[idx]).score(emb["amazon"][te], y[te]))
            v = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit([x[i] for i in idx])
            m = LogisticRegression(C=10.0, max_iter=2000).fit(v.transform([x[i] for i in idx]), y[idx])
            tfi.append(m.score(v.transform([x[i] for i in te]), y[te]))
        gap = np.array(enc) - np.array(tfi)
        print(f"k={k:4d} encoder {np.mean(enc):.3f}±{np.std(enc):.3f}  TF-IDF {np.mean(tfi):.3f}±{np.std(tfi):.3f}"
              f"  gap {np.mean(gap):+.3f}±{np.std(gap):.3f}")
    frozen = lr.score(emb["amazon"][te], y[te])
    fine_tune(x, y, tr, te, frozen, lr, pre, args)


def fine_tune(x, y, tr, te, frozen: float, lr: LogisticRegression, pre, args: argparse.Namespace) -> None:
    """Fine-tune every weight of the mean-pooled encoder (LP-FT) on the 800 training sentences, once per seed."""
    import keras

    if args.fine_tune_seeds <= 0:
        return

    def tokens(texts):
        return {k: np.asarray(v).astype("int32") for k, v in pre(list(texts)).items()}

    x_tr, x_te = tokens([x[i] for i in tr]), tokens([x[i] for i in te])
    final = []
    for seed in range(args.fine_tune_seeds):
        keras.utils.set_random_seed(seed)
        backbone = text.load_text_model("backbone")
        backbone.get_layer("pooled_dense").trainable = False  # the [CLS] pooler: unused
        classifier = text.mean_pooled_classifier(backbone, head=(lr.coef_.T, lr.intercept_))
        classifier.compile(optimizer=keras.optimizers.AdamW(3e-5),
                           loss=keras.losses.BinaryCrossentropy(from_logits=True))
        for epoch in range(1, args.fine_tune_epochs + 1):
            start = time.time()
            classifier.fit(x_tr, y[tr], batch_size=16, epochs=1, verbose=0)
            seconds = time.time() - start
            accuracy = float(np.mean((classifier.predict(x_te, batch_size=32, verbose=0)[:, 0] > 0) == y[te]))
            print(f"fine-tune seed {seed} epoch {epoch}: Amazon test {accuracy:.3f} (frozen encoder + LR "
                  f"{frozen:.3f}), {seconds:.0f} s")
        final.append(accuracy)
    print(f"fine-tuned, {args.fine_tune_epochs} epochs, {len(final)} seeds: {np.mean(final):.3f}±{np.std(final):.3f} "
          f"(min {min(final):.3f}, max {max(final):.3f}); frozen encoder + LR {frozen:.3f}; "
          f"difference {np.mean(final) - frozen:+.3f}")


if __name__ == "__main__":
    main()
