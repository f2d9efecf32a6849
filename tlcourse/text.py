"""Text transfer: a pretrained BERT encoder from KerasHub and its mean-pooled sentence embeddings.

Where the weights are neither cached nor downloadable, loading raises :class:`TextModelNotAvailableError`
naming what is missing; nothing falls back to random weights.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from tlcourse.features import load_or_compute
from tlcourse_assets.errors import TextModelNotAvailableError
from tlcourse_assets.text_model import (
    TEXT_MODELS,
    TEXT_PRESET,
    hf_cache_dir,
    hf_snapshot,
    text_model_not_available,
    text_offline,
)

#: The preset 07_text_transfer loads (``hf://sentence-transformers/all-MiniLM-L6-v2``).
DEFAULT_PRESET = TEXT_PRESET

__all__ = [
    "DEFAULT_PRESET",
    "TEXT_MODELS",
    "TextModelNotAvailableError",
    "cached_embeddings",
    "hf_cache_dir",
    "hf_snapshot",
    "load_text_model",
    "mean_pool",
    "mean_pooled_classifier",
    "sentence_embeddings",
    "token_lengths",
    "word_pieces",
]


def load_text_model(kind: str = "backbone", preset: str = DEFAULT_PRESET, **kwargs: Any) -> Any:
    """Load a KerasHub BERT piece from a preset: ``"backbone"``, ``"tokenizer"`` or ``"classifier"``.

    Introduced in 07_text_transfer.

    ``BertBackbone.from_preset(preset, **kwargs)`` and its siblings (``num_classes=2`` for the classifier,
    whose logits are computed in float32), but raising :class:`TextModelNotAvailableError` when the
    preset is neither in the cache nor downloadable. ``hf://owner/name`` reads the Hugging Face hub.

    Examples
    --------
    >>> backbone = load_text_model("backbone")  # doctest: +SKIP
    >>> backbone.count_params()  # doctest: +SKIP
    22713216
    """
    classes = {"backbone": "BertBackbone", "tokenizer": "BertTokenizer", "classifier": "BertTextClassifier"}
    if kind not in classes:
        raise ValueError(f"kind must be one of {sorted(classes)}, not {kind!r}.")
    if preset.startswith("hf://") and text_offline() and hf_snapshot(preset) is None:
        raise text_model_not_available(preset, "offline (HF_HUB_OFFLINE or TLCOURSE_OFFLINE) and not in the cache")
    import keras_hub

    cls = getattr(keras_hub.models, classes[kind])
    try:
        model = cls.from_preset(preset, **kwargs)
    except (OSError, ValueError, ConnectionError) as exc:
        if hf_snapshot(preset) is not None:
            raise
        raise text_model_not_available(preset, f"loading failed ({type(exc).__name__}: {exc})") from exc
    if kind == "classifier":

        # Under mixed_float16 the logits would come out in float16 (the backbone's policy); a loss and a
        # softmax over float16 lose precision, so the last layer computes in float32, as the course's other heads.
        model.get_layer("logits").dtype_policy = keras.DTypePolicy("float32")
    return model


def word_pieces(tokenizer: Any, text: str) -> list[str]:
    """The word pieces of one text, as strings (no special tokens).

    Introduced in 07_text_transfer.

    Examples
    --------
    >>> word_pieces(load_text_model("tokenizer"), "Unbelievably good")  # doctest: +SKIP
    ['un', '##bel', '##ie', '##va', '##bly', 'good']
    """
    ids = np.asarray(tokenizer.tokenize([text]))[0]
    return [tokenizer.id_to_token(int(i)) for i in ids]


def token_lengths(tokenizer: Any, texts: Sequence[str]) -> np.ndarray:
    """Number of word pieces per text, without the ``[CLS]`` and ``[SEP]`` tokens.

    Introduced in 07_text_transfer.

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

    Introduced in 07_text_transfer.

    all-MiniLM-L6-v2 was trained with this pooling: its sentence embedding is the mean of its token
    outputs, not the ``[CLS]`` vector.

    Examples
    --------
    >>> import numpy as np
    >>> seq = np.array([[[1.0], [3.0], [100.0]]], "float32")
    >>> float(mean_pool(seq, np.array([[True, True, False]]))[0, 0])
    2.0
    """
    ops = keras.ops
    mask = ops.cast(ops.expand_dims(padding_mask, -1), sequence_output.dtype if hasattr(sequence_output, "dtype") else "float32")
    summed = ops.sum(sequence_output * mask, axis=1)
    return summed / ops.maximum(ops.sum(mask, axis=1), 1.0)


def mean_pooled_classifier(backbone: Any, head: tuple[Any, Any] | None = None) -> Any:
    """``backbone`` with masked mean pooling and one logit: a classifier pooled the way the encoder was trained.

    Introduced in 07_text_transfer.

    KerasHub's ``BertTextClassifier`` reads the ``[CLS]`` output instead, which all-MiniLM-L6-v2 was not
    trained for. The model takes the preprocessor's dictionary and returns one float32 logit per sentence
    (positive above 0). ``backbone`` is used, not copied: fine-tuning changes it. ``head`` is an optional
    ``(kernel, bias)`` of shapes ``(hidden, 1)`` and ``(1,)`` to start the logit layer from; for LP-FT, a
    logistic regression fitted on the frozen embeddings (``lr.coef_.T``, ``lr.intercept_``).

    Examples
    --------
    >>> model = mean_pooled_classifier(load_text_model("backbone"))  # doctest: +SKIP
    >>> model(preprocessor(["good", "bad"])).shape  # doctest: +SKIP
    TensorShape([2, 1])
    """
    names = ("token_ids", "segment_ids", "padding_mask")
    inputs = {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in names}
    sequence = backbone(inputs)["sequence_output"]
    pooled = keras.layers.Lambda(lambda t: mean_pool(t[0], t[1]), name="mean_pool")(
        [sequence, inputs["padding_mask"]])
    logit_layer = keras.layers.Dense(1, dtype="float32", name="logit")
    logits = logit_layer(pooled)
    if head is not None:
        kernel, bias = head
        logit_layer.set_weights([np.asarray(kernel, np.float32).reshape(-1, 1), np.asarray(bias, np.float32).reshape(1)])
    return keras.Model(inputs, logits, name="mean_pooled_classifier")


def sentence_embeddings(
    backbone: Any, preprocessor: Any, texts: Sequence[str], *, batch_size: int = 64
) -> np.ndarray:
    """Mean-pooled sentence embeddings of ``texts`` from a frozen BERT backbone, shape ``(n, hidden)``.

    Introduced in 07_text_transfer.

    ``preprocessor`` turns a list of strings into ``{"token_ids", "padding_mask", "segment_ids"}`` (for
    example ``keras_hub.models.BertTextClassifierPreprocessor`` with a ``sequence_length``).

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
    batch_size: int = 64,
    cache_dir: str | Path | None = "outputs/features",
    verbose: bool = True,
) -> np.ndarray:
    """:func:`sentence_embeddings`, computed once, then read from disk.

    Introduced in 07_text_transfer.

    A change of the texts, the sequence length or the backbone's weights computes them again.

    Examples
    --------
    >>> emb = cached_embeddings(backbone, preprocessor, texts, name="amazon")  # doctest: +SKIP
    """
    texts = list(texts)
    key = f"{name}-{_text_key(backbone, preprocessor, texts, name)}"
    path = Path(cache_dir) / f"{key}.npy" if cache_dir is not None else None
    return load_or_compute(path, lambda: sentence_embeddings(backbone, preprocessor, texts, batch_size=batch_size),
                           label=f"embeddings {name}", verbose=verbose)
