"""A topic classifier trained at build time on the entries' own questions and the labelled questions.

Nearest-neighbour similarity asks "which stored question looks most like this one?"; many questions share
words with the wrong entry ("what number do I call for an ambulance" is close to the violence entry's
"call 110"). A linear model trained on every entry's questions and titles in all locales learns which
directions of the embedding space separate the topics, the way Rasa's intent classifier does.

A second linear model reads the spelling: TF-IDF over character 2-4-grams of the folded text. The 4-bit
e5-small embedding barely reads typos, missing diacritics and Arabic or Persian typed in Latin letters;
character n-grams do. The two are combined as a weighted product of probabilities (``CHARACTER_WEIGHT``):
on the development sets the classifier alone went from 0.882 to 0.925 top-1, Arabic 0.795 → 0.879,
Persian 0.822 → 0.900 (docs/benchmarks.md).

The combined probability is fused with the nearest-neighbour score (``SearchParams.classifier_weight``). Both
models are trained only on knowledge content, never on evaluation questions, and stored as plain arrays (no
pickle).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from knowledge.text import fold

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

FILE_NAME = "classifier.npz"
# Bump when what a fit produces from the same examples changes (features, ``fold``, settings below): a build keeps
# the previous classifier only when its examples and this version are the same (``knowledge.index``).
VERSION = 1
REGULARISATION = 10.0  # inverse strength C; 10 and 50 measured alike, 1 clearly worse (docs/benchmarks.md)
CHARACTER_WEIGHT = 0.5  # share of the character model in the product of probabilities
NGRAMS = (2, 4)
MIN_DOCUMENTS = 2  # an n-gram seen in one training question only is noise, and doubles the weights


def _logistic(
    features: object, labels: list[str], warm: tuple[np.ndarray, np.ndarray] | None
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Multinomial logistic regression: (classes, weights (features, classes), bias (classes,)).

    ``warm`` (weights and bias of the last build, same classes and features) is the starting point: an
    incremental build changes a few examples, and the optimiser then needs a fraction of the steps.
    """
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=REGULARISATION, max_iter=3000)
    if warm is not None:
        model.set_params(warm_start=True)
        model.coef_ = warm[0].T.astype(np.float64)
        model.intercept_ = warm[1].astype(np.float64)
    model.fit(features, labels)
    weights, bias = model.coef_, model.intercept_
    if len(model.classes_) == 2:  # binary models keep one row: p(second) = softmax([0, w.x + b])
        weights, bias = np.vstack([np.zeros_like(weights), weights]), np.concatenate([[0.0], bias])
    return tuple(str(c) for c in model.classes_), weights.T.astype(np.float32), bias.astype(np.float32)


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max()
    return shifted - np.log(np.exp(shifted).sum())


@dataclass(frozen=True)
class CharacterModel:
    """Logistic regression over TF-IDF character n-grams of the folded text."""

    vocabulary: np.ndarray  # (features,) n-gram strings, in feature order
    idf: np.ndarray  # (features,)
    weights: np.ndarray  # (features, classes)
    bias: np.ndarray  # (classes,)

    @staticmethod
    def vectorizer(vocabulary: dict[str, int] | None = None) -> TfidfVectorizer:
        from sklearn.feature_extraction.text import TfidfVectorizer

        return TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=NGRAMS,
            sublinear_tf=True,
            min_df=1 if vocabulary else MIN_DOCUMENTS,
            preprocessor=fold,
            vocabulary=vocabulary,
            dtype=np.float32,
        )

    @classmethod
    def fit(cls, texts: list[str], labels: list[str], previous: CharacterModel | None) -> CharacterModel | None:
        """None when no n-gram occurs in two examples (a tiny knowledge base): there is nothing to learn."""
        vectorizer = cls.vectorizer()
        try:
            features = vectorizer.fit_transform(texts)
        except ValueError:  # "After pruning, no terms remain"
            return None
        vocabulary = np.asarray(vectorizer.get_feature_names_out(), dtype=str)
        warm = (previous.weights_for(vocabulary), previous.bias) if previous is not None else None
        _, weights, bias = _logistic(features, labels, warm)
        return cls(vocabulary, vectorizer.idf_.astype(np.float32), weights, bias)

    def weights_for(self, vocabulary: np.ndarray) -> np.ndarray:
        """These weights laid out for another vocabulary: an n-gram both know keeps its weights, a new one starts
        at zero. A new or removed example question changes the vocabulary; started from here instead of from zero,
        the optimiser begins next to the last build's optimum, as it does when the vocabulary stays the same."""
        position = {str(gram): i for i, gram in enumerate(self.vocabulary)}
        rows = np.array([position.get(str(gram), -1) for gram in vocabulary], dtype=np.int64)
        weights = np.zeros((len(vocabulary), self.weights.shape[1]), dtype=self.weights.dtype)
        known = rows >= 0
        weights[known] = self.weights[rows[known]]
        return weights

    @cached_property
    def _fitted(self) -> TfidfVectorizer:
        vectorizer = self.vectorizer({str(gram): i for i, gram in enumerate(self.vocabulary)})
        vectorizer.idf_ = self.idf
        return vectorizer

    def logits(self, text: str) -> np.ndarray:
        return np.asarray(self._fitted.transform([text]) @ self.weights).ravel() + self.bias


@dataclass(frozen=True)
class TopicClassifier:
    classes: tuple[str, ...]
    weights: np.ndarray  # (dim, classes): the embedding model
    bias: np.ndarray  # (classes,)
    characters: CharacterModel | None = None  # None when trained without texts

    @classmethod
    def fit(
        cls,
        vectors: np.ndarray,
        labels: list[str],
        texts: list[str] | None = None,  # the examples' texts, for the character model
        previous: TopicClassifier | None = None,  # the classifier of the last build: a warm start
    ) -> TopicClassifier | None:
        """None when there are fewer than two entries to tell apart."""
        classes = sorted(set(labels))
        if len(classes) < 2:
            return None
        same_classes = previous is not None and list(previous.classes) == classes and len(classes) > 2
        warm = (previous.weights, previous.bias) if same_classes and previous is not None else None
        fitted, weights, bias = _logistic(vectors, labels, warm)
        characters = None
        if texts is not None:
            characters = CharacterModel.fit(texts, labels, previous.characters if same_classes and previous else None)
        return cls(fitted, weights, bias, characters)

    def probabilities(self, vector: np.ndarray, text: str | None = None) -> dict[str, float]:
        """Topic probabilities from the embedding, combined with those from the spelling when ``text`` is given."""
        log_p = _log_softmax(vector.astype(np.float32) @ self.weights + self.bias)
        if text is not None and self.characters is not None:
            log_p = (1 - CHARACTER_WEIGHT) * log_p + CHARACTER_WEIGHT * _log_softmax(self.characters.logits(text))
        p = np.exp(log_p - log_p.max())
        return dict(zip(self.classes, (p / p.sum()).tolist()))

    def save(self, directory: Path) -> None:
        characters = {}
        if self.characters is not None:
            c = self.characters
            characters = {
                "char_vocabulary": c.vocabulary,
                "char_idf": c.idf,
                "char_weights": c.weights,
                "char_bias": c.bias,
            }
        arrays = {"classes": np.array(self.classes), "weights": self.weights, "bias": self.bias, **characters}
        np.savez(directory / FILE_NAME, **arrays)

    @classmethod
    def load(cls, directory: Path) -> TopicClassifier | None:
        path = directory / FILE_NAME
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as data:
            characters = None
            if "char_weights" in data:
                characters = CharacterModel(
                    data["char_vocabulary"], data["char_idf"], data["char_weights"], data["char_bias"]
                )
            return cls(tuple(str(c) for c in data["classes"]), data["weights"], data["bias"], characters)
