"""A topic classifier over question embeddings, trained at build time on the entries' own questions.

Nearest-neighbour similarity asks "which stored question looks most like this one?"; many questions share
words with the wrong entry ("what number do I call for an ambulance" is close to the violence entry's
"call 110"). A linear model trained on every entry's questions and titles in all locales learns which
directions of the embedding space separate the topics, the way Rasa's intent classifier does. Its
probability is fused with the nearest-neighbour score (``SearchParams.classifier_weight``). It is trained
only on knowledge content, never on evaluation questions, and stored as plain arrays (no pickle).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILE_NAME = "classifier.npz"
REGULARISATION = 10.0  # inverse strength C; 10 and 50 measured alike, 1 clearly worse (docs/benchmarks.md)


@dataclass(frozen=True)
class TopicClassifier:
    classes: tuple[str, ...]
    weights: np.ndarray  # (dim, classes)
    bias: np.ndarray  # (classes,)

    @classmethod
    def fit(
        cls, vectors: np.ndarray, labels: list[str], previous: TopicClassifier | None = None
    ) -> TopicClassifier | None:
        """Multinomial logistic regression; None when there are fewer than two entries to tell apart.

        ``previous`` (the classifier of the last build) is the starting point when it knows the same classes:
        an incremental build changes a few examples, and the optimiser then needs a fraction of the steps.
        """
        from sklearn.linear_model import LogisticRegression

        classes = sorted(set(labels))
        if len(classes) < 2:
            return None
        model = LogisticRegression(C=REGULARISATION, max_iter=3000)
        if previous is not None and list(previous.classes) == classes and len(classes) > 2:
            model.set_params(warm_start=True)
            model.coef_ = previous.weights.T.astype(np.float64)
            model.intercept_ = previous.bias.astype(np.float64)
        model.fit(vectors, labels)
        weights, bias = model.coef_, model.intercept_
        if len(model.classes_) == 2:  # binary models keep one row: p(second) = softmax([0, w.x + b])
            weights, bias = np.vstack([np.zeros_like(weights), weights]), np.concatenate([[0.0], bias])
        return cls(tuple(str(c) for c in model.classes_), weights.T.astype(np.float32), bias.astype(np.float32))

    def probabilities(self, vector: np.ndarray) -> dict[str, float]:
        logits = vector.astype(np.float32) @ self.weights + self.bias
        exp = np.exp(logits - logits.max())
        return dict(zip(self.classes, (exp / exp.sum()).tolist()))

    def save(self, directory: Path) -> None:
        np.savez(directory / FILE_NAME, classes=np.array(self.classes), weights=self.weights, bias=self.bias)

    @classmethod
    def load(cls, directory: Path) -> TopicClassifier | None:
        path = directory / FILE_NAME
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as data:
            return cls(tuple(str(c) for c in data["classes"]), data["weights"], data["bias"])
