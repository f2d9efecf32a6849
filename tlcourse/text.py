"""Text transfer: a pretrained BERT encoder from KerasHub, sentence embeddings, CORAL.

Introduced in 07_text_transfer. The text base model sits beside the image
bases of :mod:`tlcourse.models` and fails the same way: where the weights are
neither in the Hugging Face cache nor downloadable, the error names what is
missing and the two ways to get it. Nothing here falls back to random weights.

KerasHub loads ``hf://`` presets through the Hugging Face hub client, which
reads ``$HF_HOME/hub`` (a classroom mirror copied there serves offline, with
``HF_HUB_OFFLINE=1``) and downloads otherwise.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from tlcourse.features import load_or_compute
from tlcourse.models import WeightsNotAvailableError

__all__ = [
    "DEFAULT_PRESET",
    "TEXT_MODELS",
    "TextModelNotAvailableError",
    "cached_embeddings",
    "coral_align",
    "hf_cache_dir",
    "hf_snapshot",
    "load_text_model",
    "mean_pool",
    "sentence_embeddings",
    "token_lengths",
    "word_pieces",
]

#: The course's text base: a 6-layer, 384-wide BERT trained for sentence embeddings (Apache-2.0).
DEFAULT_PRESET = "hf://sentence-transformers/all-MiniLM-L6-v2"

#: Text bases the course knows: preset -> facts for the lesson (parameters as counted by Keras).
TEXT_MODELS: dict[str, dict[str, Any]] = {
    DEFAULT_PRESET: {"layers": 6, "hidden": 384, "params": 22_713_216, "licence": "Apache-2.0"},
}


class TextModelNotAvailableError(WeightsNotAvailableError):
    """A KerasHub text preset is not in the Hugging Face cache and could not be downloaded."""


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache: ``$HF_HUB_CACHE``, else ``$HF_HOME/hub`` (default ``~/.cache/huggingface/hub``).

    Examples
    --------
    >>> hf_cache_dir().name
    'hub'
    """
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface")
    return Path(home) / "hub"


def _repo(preset: str) -> str | None:
    return preset[len("hf://"):] if preset.startswith("hf://") else None


def hf_snapshot(preset: str = DEFAULT_PRESET) -> Path | None:
    """The cached snapshot folder of an ``hf://`` preset (with config and weights), or ``None``.

    Examples
    --------
    >>> hf_snapshot("hf://nobody/no-such-model") is None
    True
    """
    repo = _repo(preset)
    if repo is None:
        return None
    snapshots = hf_cache_dir() / ("models--" + repo.replace("/", "--")) / "snapshots"
    if not snapshots.is_dir():
        return None
    for snap in sorted(snapshots.iterdir()):
        if (snap / "config.json").is_file() and any(snap.glob("*.safetensors")):
            return snap
    return None


def _offline() -> bool:
    from tlcourse.data import offline

    hub = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() not in {"", "0", "false", "no"}
    return offline() or hub


def _not_available(preset: str, cause: str) -> TextModelNotAvailableError:
    repo = _repo(preset) or preset
    folder = hf_cache_dir() / ("models--" + repo.replace("/", "--"))
    return TextModelNotAvailableError(
        f"The text model {preset} is not available: {cause}.\n"
        f"  KerasHub looks for it in the Hugging Face cache: {folder}\n"
        f"  Two ways to get it:\n"
        f"  1. with internet: unset HF_HUB_OFFLINE and run the same code (or `tlcourse fetch`); "
        f"the hub client downloads it (about 90 MB);\n"
        f"  2. offline: copy a mirror's huggingface/ folder to $HF_HOME (now {hf_cache_dir().parent}) "
        f"and set HF_HUB_OFFLINE=1.\n"
        f"  The course never falls back to random weights."
    )


def load_text_model(kind: str = "backbone", preset: str = DEFAULT_PRESET, **kwargs: Any) -> Any:
    """Load a KerasHub BERT piece from a preset: ``"backbone"``, ``"tokenizer"`` or ``"classifier"``.

    The same calls as ``keras_hub.models.BertBackbone.from_preset(preset)``,
    ``BertTokenizer.from_preset`` and ``BertTextClassifier.from_preset(preset,
    num_classes=...)``, with a clear error where the preset is not cached offline.

    Parameters
    ----------
    kind
        Which piece to load.
    preset
        A KerasHub preset; ``hf://owner/name`` reads the Hugging Face hub.
    **kwargs
        Passed to ``from_preset`` (for example ``num_classes=2`` for the classifier).

    Raises
    ------
    TextModelNotAvailableError
        If offline and not in the cache, or if the download fails.

    Examples
    --------
    >>> backbone = load_text_model("backbone")  # doctest: +SKIP
    >>> backbone.count_params()  # doctest: +SKIP
    22713216
    """
    classes = {"backbone": "BertBackbone", "tokenizer": "BertTokenizer", "classifier": "BertTextClassifier"}
    if kind not in classes:
        raise ValueError(f"kind must be one of {sorted(classes)}, not {kind!r}.")
    if _repo(preset) is not None and _offline() and hf_snapshot(preset) is None:
        raise _not_available(preset, "offline (HF_HUB_OFFLINE or TLCOURSE_OFFLINE) and not in the cache")
    import keras_hub

    cls = getattr(keras_hub.models, classes[kind])
    try:
        return cls.from_preset(preset, **kwargs)
    except (OSError, ValueError, ConnectionError) as exc:
        if hf_snapshot(preset) is not None:
            raise
        raise _not_available(preset, f"loading failed ({type(exc).__name__}: {exc})") from exc


def word_pieces(tokenizer: Any, text: str) -> list[str]:
    """The word pieces of one text, as strings (no special tokens).

    Examples
    --------
    >>> word_pieces(load_text_model("tokenizer"), "Unbelievably good")  # doctest: +SKIP
    ['un', '##bel', '##ie', '##va', '##bly', 'good']
    """
    ids = np.asarray(tokenizer.tokenize([text]))[0]
    return [tokenizer.id_to_token(int(i)) for i in ids]


def token_lengths(tokenizer: Any, texts: Sequence[str]) -> np.ndarray:
    """Number of word pieces per text, without the ``[CLS]`` and ``[SEP]`` tokens.

    Examples
    --------
    >>> token_lengths(load_text_model("tokenizer"), ["good", "very good"])  # doctest: +SKIP
    array([1, 2])
    """
    tokens = tokenizer.tokenize(list(texts))
    if hasattr(tokens, "row_lengths"):
        return np.asarray(tokens.row_lengths())
    return np.asarray([len(t) for t in tokens])


def mean_pool(sequence_output: Any, padding_mask: Any) -> Any:
    """Average token vectors over the real tokens only (padding masked out).

    Introduced in 07_text_transfer: sentence-transformers trained
    all-MiniLM-L6-v2 with this pooling, so its sentence embedding is the mean
    of its token outputs, not the ``[CLS]`` vector.

    Examples
    --------
    >>> import numpy as np
    >>> seq = np.array([[[1.0], [3.0], [100.0]]], "float32")
    >>> float(mean_pool(seq, np.array([[True, True, False]]))[0, 0])
    2.0
    """
    import keras

    ops = keras.ops
    mask = ops.cast(ops.expand_dims(padding_mask, -1), sequence_output.dtype if hasattr(sequence_output, "dtype") else "float32")
    summed = ops.sum(sequence_output * mask, axis=1)
    return summed / ops.maximum(ops.sum(mask, axis=1), 1.0)


def sentence_embeddings(
    backbone: Any, preprocessor: Any, texts: Sequence[str], *, batch_size: int = 64
) -> np.ndarray:
    """Mean-pooled sentence embeddings of ``texts`` from a frozen BERT backbone, shape ``(n, hidden)``.

    ``preprocessor`` turns a list of strings into ``{"token_ids", "padding_mask",
    "segment_ids"}`` (for example ``keras_hub.models.BertTextClassifierPreprocessor``
    with a ``sequence_length``); the backbone runs in inference mode.

    Examples
    --------
    >>> emb = sentence_embeddings(backbone, preprocessor, ["good", "bad"])  # doctest: +SKIP
    >>> emb.shape  # doctest: +SKIP
    (2, 384)
    """
    texts = list(texts)
    out = []
    for start in range(0, len(texts), batch_size):
        x = preprocessor(texts[start : start + batch_size])
        seq = backbone(x, training=False)["sequence_output"]
        out.append(np.asarray(mean_pool(seq, x["padding_mask"])))
    return np.concatenate(out) if out else np.zeros((0, backbone.hidden_dim), np.float32)


def _text_key(backbone: Any, preprocessor: Any, texts: Sequence[str], name: str) -> str:
    h = hashlib.sha256(name.encode())
    h.update(f"{backbone.name}|{backbone.count_params()}|{getattr(preprocessor, 'sequence_length', '')}".encode())
    # A few weights stand for the model (hashing all 90 MB on every call would cost more than it saves);
    # fine-tuned weights change them all.
    for w in backbone.weights[:2] + backbone.weights[-2:]:
        h.update(np.ascontiguousarray(np.asarray(w)).tobytes())
    for t in texts:
        h.update(t.encode("utf-8") + b"\0")
    return h.hexdigest()[:16]


def cached_embeddings(
    backbone: Any,
    preprocessor: Any,
    texts: Sequence[str],
    *,
    name: str,
    cache_dir: str | Path | None = "outputs/features",
    batch_size: int = 64,
    verbose: bool = True,
) -> np.ndarray:
    """:func:`sentence_embeddings`, computed once, then read from disk.

    The cache file's name holds a hash of the texts, the sequence length and
    some of the backbone's weights, so a change to any of them recomputes.

    Examples
    --------
    >>> emb = cached_embeddings(backbone, preprocessor, texts, name="amazon")  # doctest: +SKIP
    """
    texts = list(texts)
    key = f"{name}-{_text_key(backbone, preprocessor, texts, name)}"
    path = Path(cache_dir) / f"{key}.npy" if cache_dir is not None else None
    return load_or_compute(path, lambda: sentence_embeddings(backbone, preprocessor, texts, batch_size=batch_size),
                           label=f"embeddings {name}", verbose=verbose)


def _matrix_power(cov: np.ndarray, power: float) -> np.ndarray:
    values, vectors = np.linalg.eigh(cov)
    return (vectors * np.clip(values, 1e-12, None) ** power) @ vectors.T


def coral_align(source: np.ndarray, target: np.ndarray, *, eps: float = 1.0) -> np.ndarray:
    """Closed-form CORAL (Sun, Feng & Saenko 2016): re-colour source features with the target's covariance.

    ``source @ C_s^(-1/2) @ C_t^(1/2)``, with ``C = cov + eps * I`` in each
    domain: whiten the source, then give it the target's second-order
    statistics. The means are matched too (the paper's features were
    standardised first). Train a classifier on the aligned source features and
    apply it, unchanged, to the target features. Needs target features, never
    target labels.

    Parameters
    ----------
    source, target
        Features ``(n_s, d)`` and ``(n_t, d)``.
    eps
        Regularisation added to both covariances (the paper uses 1 with
        standardised features; scale it with the features' variance).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = rng.normal(size=(500, 3)); t = 3 * rng.normal(size=(500, 3)) + 1
    >>> a = coral_align(s, t, eps=1e-3)
    >>> bool(np.allclose(np.cov(a.T), np.cov(t.T), atol=0.02))
    True
    """
    source = np.asarray(source, np.float64)
    target = np.asarray(target, np.float64)
    d = source.shape[1]
    cs = np.cov(source, rowvar=False) + eps * np.eye(d)
    ct = np.cov(target, rowvar=False) + eps * np.eye(d)
    centred = source - source.mean(0)
    aligned = centred @ _matrix_power(cs, -0.5) @ _matrix_power(ct, 0.5)
    return (aligned + target.mean(0)).astype(np.float32)
