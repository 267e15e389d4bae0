"""The topic classifier trained at build time: probabilities, the binary case, storage without pickle."""

import numpy as np

from knowledge.classifier import CharacterModel, TopicClassifier


def _clusters(labels: list[str], per_label: int = 12, dim: int = 8) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(0)
    centres = np.eye(dim)[: len(labels)] * 3
    vectors = np.vstack([centre + rng.normal(0, 0.3, (per_label, dim)) for centre in centres])
    return vectors.astype(np.float32), [label for label in labels for _ in range(per_label)]


def test_predicts_the_cluster_a_vector_belongs_to(tmp_path):
    vectors, labels = _clusters(["arrival.registration", "kita.costs", "work.minijob"])
    classifier = TopicClassifier.fit(vectors, labels)
    probabilities = classifier.probabilities(np.eye(8, dtype=np.float32)[1] * 3)
    assert max(probabilities, key=probabilities.get) == "kita.costs"
    assert abs(sum(probabilities.values()) - 1.0) < 1e-5

    classifier.save(tmp_path)
    loaded = TopicClassifier.load(tmp_path)
    assert loaded.classes == classifier.classes
    assert loaded.probabilities(vectors[0]) == classifier.probabilities(vectors[0])


def test_two_entries_give_two_probabilities():
    vectors, labels = _clusters(["a", "b"])
    classifier = TopicClassifier.fit(vectors, labels)
    first, second = classifier.probabilities(vectors[0])["a"], classifier.probabilities(vectors[-1])["b"]
    assert first > 0.9 and second > 0.9


def test_one_entry_needs_no_classifier(tmp_path):
    vectors, labels = _clusters(["only"])
    assert TopicClassifier.fit(vectors, labels) is None
    assert TopicClassifier.load(tmp_path) is None


def test_a_warm_start_from_the_previous_build_reaches_the_same_model():
    """Incremental builds start from the last classifier; the optimum must not depend on where it started."""
    vectors, labels = _clusters(["a", "b", "c", "d"])
    previous = TopicClassifier.fit(vectors, labels)
    changed = vectors.copy()
    changed[0] += 0.05  # one example edited
    cold = TopicClassifier.fit(changed, labels)
    warm = TopicClassifier.fit(changed, labels, previous=previous)
    assert warm.classes == cold.classes
    for vector in vectors[::7]:
        cold_p, warm_p = cold.probabilities(vector), warm.probabilities(vector)
        assert max(abs(cold_p[c] - warm_p[c]) for c in cold.classes) < 1e-3
    # A previous model with other classes is not used as a starting point.
    other = TopicClassifier.fit(*_clusters(["a", "b", "x"]))
    assert TopicClassifier.fit(changed, labels, previous=other).classes == cold.classes


def test_the_character_model_reads_spelling_the_embedding_cannot(tmp_path):
    """Vectors that say nothing (all alike) leave the decision to the character n-grams of the text."""
    texts = {
        "arrival.registration": ["wohnung anmelden", "anmeldung bürgeramt", "wo melde ich mich an", "anmeldung frist"],
        "kita.costs": ["was kostet die kita", "kita gebühren", "kita beitrag zahlen", "kosten für den kitaplatz"],
    }
    labels = [label for label, questions in texts.items() for _ in questions]
    flat = [q for questions in texts.values() for q in questions]
    vectors = np.ones((len(flat), 4), np.float32)
    classifier = TopicClassifier.fit(vectors, labels, flat)
    assert classifier.characters is not None
    typo = classifier.probabilities(vectors[0], "kita gebuhren wie viel")  # no umlaut, a word never seen
    assert typo["kita.costs"] > 0.6
    assert classifier.probabilities(vectors[0], "ANMELDUNG buergeramt")["arrival.registration"] > 0.6
    # Without the text only the embedding speaks, and it cannot tell the two apart.
    assert abs(classifier.probabilities(vectors[0])["kita.costs"] - 0.5) < 0.05

    classifier.save(tmp_path)
    loaded = TopicClassifier.load(tmp_path)
    assert loaded.probabilities(vectors[0], "kita gebuhren") == classifier.probabilities(vectors[0], "kita gebuhren")


def test_texts_without_shared_ngrams_give_no_character_model():
    vectors, labels = _clusters(["a", "b"], per_label=1)
    classifier = TopicClassifier.fit(vectors, labels, ["xy", "qz"])
    assert classifier is not None and classifier.characters is None


def test_a_new_question_with_new_ngrams_still_starts_from_the_previous_character_model(monkeypatch):
    """A new example brings n-grams the last build never saw: shared ones keep their weights, new ones start at
    zero, and the result is the model a cold start reaches."""
    texts = ["wohnung anmelden", "anmeldung bürgeramt", "anmeldung frist", "kita gebühren", "kita beitrag", "kita"]
    texts += ["minijob grenze", "minijob verdienst", "minijob steuer"]
    labels = ["arrival.registration"] * 3 + ["kita.costs"] * 3 + ["work.minijob"] * 3  # a warm start needs 3 classes
    vectors = np.ones((len(texts), 4), np.float32)
    previous = TopicClassifier.fit(vectors, labels, texts).characters
    grown = np.asarray([*previous.vocabulary[:3], "zz", previous.vocabulary[5]])
    laid_out = previous.weights_for(grown)
    assert np.array_equal(laid_out[:3], previous.weights[:3]) and np.array_equal(laid_out[4], previous.weights[5])
    assert not laid_out[3].any()

    texts_now = [*texts, "kita platz kosten"]
    labels_now = [*labels, "kita.costs"]
    vectors_now = np.ones((len(texts_now), 4), np.float32)
    cold = TopicClassifier.fit(vectors_now, labels_now, texts_now)
    started_from = []
    real = CharacterModel.weights_for
    monkeypatch.setattr(CharacterModel, "weights_for", lambda self, v: started_from.append(len(v)) or real(self, v))
    warm = TopicClassifier.fit(vectors_now, labels_now, texts_now, previous=TopicClassifier.fit(vectors, labels, texts))
    assert len(warm.characters.vocabulary) > len(previous.vocabulary)
    assert started_from == [len(warm.characters.vocabulary)]  # the last model, laid out for the new vocabulary
    for text in ("kita kosten", "anmeldung", "minijob"):
        cold_p, warm_p = cold.probabilities(vectors[0], text), warm.probabilities(vectors[0], text)
        assert max(abs(cold_p[c] - warm_p[c]) for c in cold.classes) < 1e-3
