"""The text base model of 07_text_transfer: its name, where the Hugging Face cache keeps it, its error.

KerasHub loads ``hf://`` presets through the Hugging Face hub client, which reads the hub cache (a
classroom mirror copied there serves offline, with ``HF_HUB_OFFLINE=1``) and downloads otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tlcourse import settings
from tlcourse_assets.errors import TextModelNotAvailableError
from tlcourse_assets.files import explain_download_failure

__all__ = [
    "TEXT_MODEL",
    "TEXT_MODELS",
    "TEXT_PRESET",
    "download_text_model",
    "hf_cache_dir",
    "hf_snapshot",
    "text_model_not_available",
    "text_offline",
]

#: The course's text base, a Hugging Face repository: a 6-layer, 384-wide BERT trained for sentence embeddings.
TEXT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
#: The same as a KerasHub preset.
TEXT_PRESET = f"hf://{TEXT_MODEL}"

#: Text bases the course knows: preset -> facts for the lesson (parameters as counted by Keras).
TEXT_MODELS: dict[str, dict[str, Any]] = {
    TEXT_PRESET: {"layers": 6, "hidden": 384, "params": 22_713_216, "licence": "Apache-2.0"},
}

# What KerasHub reads of a BERT preset; the rest of the repository (ONNX, PyTorch copies) is not needed.
_PRESET_FILES = ["config.json", "*.safetensors", "vocab.txt", "tokenizer*.json", "special_tokens_map.json"]


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache (``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, ...).

    Introduced in 07_text_transfer.

    Examples
    --------
    >>> hf_cache_dir() == settings.current().hf_hub_cache
    True
    """
    return settings.current().hf_hub_cache


def _repo(preset: str) -> str | None:
    return preset[len("hf://"):] if preset.startswith("hf://") else None


def hf_snapshot(preset: str = TEXT_PRESET) -> Path | None:
    """The cached snapshot folder of an ``hf://`` preset (with its config and weights), or ``None``.

    Introduced in 07_text_transfer.

    Examples
    --------
    >>> hf_snapshot("hf://nobody/no-such-model") is None
    True
    """
    repo = _repo(preset)
    if repo is None:
        return None
    from huggingface_hub import try_to_load_from_cache

    config = try_to_load_from_cache(repo, "config.json", cache_dir=hf_cache_dir())
    if not isinstance(config, str):  # None, or the marker of a file known to be absent
        return None
    snapshot = Path(config).parent
    return snapshot if any(snapshot.glob("*.safetensors")) else None


def text_offline() -> bool:
    """True when neither the course (``$TLCOURSE_OFFLINE``) nor the hub client (``$HF_HUB_OFFLINE``) may download."""
    s = settings.current()
    return s.offline or s.hf_offline


def text_model_not_available(preset: str, cause: str) -> TextModelNotAvailableError:
    """The error for a text preset that is not here: the cache folder and the two ways to get it.

    Examples
    --------
    >>> "HF_HOME" in str(text_model_not_available(TEXT_PRESET, "offline"))
    True
    """
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


def download_text_model(preset: str = TEXT_PRESET) -> Path:
    """Download the files KerasHub needs of an ``hf://`` preset into the hub cache.

    Raises ``TextModelNotAvailableError`` offline (``$HF_HUB_OFFLINE`` or ``$TLCOURSE_OFFLINE``) or when
    the download fails, ``ValueError`` for a preset that is not ``hf://``.

    Examples
    --------
    >>> download_text_model().name  # doctest: +SKIP
    '1110a243fdf4706b3f48f1d95db1a4f5529b4d41'
    """
    repo = _repo(preset)
    if repo is None:
        raise ValueError(f"{preset!r} is not an hf:// preset.")
    if text_offline():
        raise text_model_not_available(preset, "offline (HF_HUB_OFFLINE or TLCOURSE_OFFLINE) and not in the cache")
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo, allow_patterns=_PRESET_FILES, cache_dir=hf_cache_dir()))
    except Exception as exc:  # noqa: BLE001 - the hub client has many error types; all mean "not here"
        advice = explain_download_failure(exc)
        cause = f"the download failed ({type(exc).__name__}: {exc})" + (f"\n  {advice.rstrip('.')}" if advice else "")
        raise text_model_not_available(preset, cause) from exc
