"""Tests for tlcourse.text: the offline error, mean pooling, embeddings of real sentences."""

from __future__ import annotations

import numpy as np
import pytest

from tlcourse import data, text


def test_missing_preset_offline_names_what_and_how(tmp_path, env):
    # Settings, not variables: huggingface_hub reads the variables once, at its first import.
    env.replace(hf_hub_cache=tmp_path / "hub", hf_offline=True)
    with pytest.raises(text.TextModelNotAvailableError) as err:
        text.load_text_model("backbone")
    message = str(err.value)
    assert "all-MiniLM-L6-v2" in message and str(tmp_path) in message
    assert "internet" in message and "HF_HOME" in message
    with pytest.raises(ValueError):
        text.load_text_model("decoder")


def test_mean_pool_ignores_padding():
    seq = np.array([[[1.0, 2.0], [3.0, 4.0], [50.0, 60.0]], [[5.0, 5.0], [7.0, 7.0], [9.0, 9.0]]], "float32")
    mask = np.array([[True, True, False], [True, True, True]])
    pooled = np.asarray(text.mean_pool(seq, mask))
    np.testing.assert_allclose(pooled, [[2.0, 3.0], [7.0, 7.0]])


@pytest.fixture(scope="module")
def encoder():
    # Without the model in the cache, loading raises the course's error: a skip that says so here, a failure in CI.
    import keras_hub

    backbone = text.load_text_model("backbone")
    tokenizer = text.load_text_model("tokenizer")
    return backbone, tokenizer, keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=24)


@pytest.mark.slow
def test_tokeniser_helpers(encoder):
    _, tokenizer, _ = encoder
    pieces = text.word_pieces(tokenizer, "Unbelievably good")
    assert pieces[-1] == "good" and any(p.startswith("##") for p in pieces)
    assert text.token_lengths(tokenizer, ["good", "very good"]).tolist() == [1, 2]


@pytest.mark.slow
def test_embeddings_separate_sentiment_and_cache(encoder, tmp_path):
    backbone, _, preprocessor = encoder
    texts, labels = data.load_sentences("yelp")
    pick = np.r_[np.flatnonzero(labels == 1)[:8], np.flatnonzero(labels == 0)[:8]]
    batch = [texts[i] for i in pick]
    emb = text.cached_embeddings(backbone, preprocessor, batch, name="t", cache_dir=tmp_path, batch_size=8)
    assert emb.shape == (16, 384) and np.isfinite(emb).all()
    assert len(list(tmp_path.glob("t-*.npy"))) == 1
    again = text.cached_embeddings(backbone, preprocessor, batch, name="t", cache_dir=tmp_path)
    np.testing.assert_array_equal(emb, again)
    # Positive sentences are closer to the positive centre than to the negative one, on the whole.
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    pos, neg = unit[:8].mean(0), unit[8:].mean(0)
    right = np.r_[unit[:8] @ pos > unit[:8] @ neg, unit[8:] @ neg > unit[8:] @ pos]
    assert right.mean() >= 0.75


@pytest.mark.slow
def test_mean_pooled_classifier_starts_from_the_given_head(encoder):
    backbone, _, preprocessor = encoder
    texts = ["Great phone, works well.", "It broke after a day."]
    emb = text.sentence_embeddings(backbone, preprocessor, texts)
    kernel, bias = np.random.default_rng(0).normal(size=(384, 1)), np.array([0.3])
    model = text.mean_pooled_classifier(backbone, head=(kernel, bias))
    tokens = {k: np.asarray(v).astype("int32") for k, v in preprocessor(texts).items()}
    logits = np.asarray(model.predict(tokens, verbose=0))
    # LP-FT starts where feature extraction ended: the logit is the head applied to the mean-pooled embedding.
    np.testing.assert_allclose(logits[:, 0], emb @ kernel[:, 0] + bias[0], rtol=1e-3, atol=1e-3)
    assert model.get_layer("logit").dtype_policy.name == "float32"
