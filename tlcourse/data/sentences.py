"""Review sentences from three sites, Amazon, IMDb and Yelp, labelled positive or negative."""

from __future__ import annotations

import numpy as np

from tlcourse_assets.datasets import dataset_path

__all__ = ["SENTENCE_SITES", "load_sentences"]

SENTENCE_SITES = {"amazon": "amazon_cells_labelled.txt", "imdb": "imdb_labelled.txt", "yelp": "yelp_labelled.txt"}


def load_sentences(site: str) -> tuple[list[str], np.ndarray]:
    """Review sentences of one site (``amazon``, ``imdb`` or ``yelp``) and their labels (1 positive).

    Introduced in 00_setup_check.

    Parsed line by line: a CSV reader silently drops IMDb rows with quotes.

    Examples
    --------
    >>> texts, labels = load_sentences("yelp")  # doctest: +SKIP
    >>> len(texts), int(labels.sum())  # doctest: +SKIP
    (1000, 500)
    """
    if site not in SENTENCE_SITES:
        raise KeyError(f"Unknown site {site!r}; choose one of {sorted(SENTENCE_SITES)}.")
    path = dataset_path("sentiment_sentences") / SENTENCE_SITES[site]
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            try:
                text, label = line.rsplit("\t", 1)
                labels.append(int(label))
            except ValueError as exc:
                raise ValueError(f"{path}, line {n}: expected 'sentence<TAB>0 or 1', got {line!r}") from exc
            texts.append(text.strip())
    return texts, np.asarray(labels, np.int64)
