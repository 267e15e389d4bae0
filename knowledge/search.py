"""Hybrid search with abstention: dense (FAISS) + lexical (BM25), fused, then a calibrated answer/abstain.

The score of an entry is ``(1 - w) * dense + w * lexical`` where
- dense mixes the best cosine of any of the entry's chunks (questions, title+summary, body), in any locale
  (optionally a penalty for other locales), mapped linearly from [dense_floor, dense_ceiling] to [0, 1], with
  the probability the topic classifier (``knowledge.classifier``) gives the entry;
- lexical is the entry's BM25 score in the user's locale, squashed to [0, 1) by ``s / (s + lexical_half)``.
Whether the best entry really answers the question is a separate, calibrated decision: an additive
logistic model over a few generic signals (``FEATURES``: best dense and lexical scores, their margins over the
runner-up, whether dense and lexical search agree, the fused score, how much of the question the entry covers,
how sure the classifier is, how likely it finds "none of the topics", and whether the labelled questions
nearest to it lie outside the catalogue) gives the probability that the
question is in scope; below ``answer_threshold`` Lotse abstains. Each signal adds its own effect, a curve
stored as points and read by linear interpolation, so a signal may matter in one range and not in another
(the best cosine, for one, counts against answering up to about 0.87 and for it above). Independently, a
question whose nearest entry text is less similar than ``relevance_floor`` is never answered. The ranking
parameters, the model and the threshold are tuned on the development sets (``make tune``) and stored in
``knowledge/search.yaml``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import yaml

from knowledge.boundaries import CLASS_PREFIX, GENERAL_PREFIX
from knowledge.embedding import Embedder
from knowledge.index import KnowledgeIndex
from knowledge.lexical import LexicalIndex
from knowledge.models import Entry
from knowledge.neighbours import NO_NEIGHBOURS, NeighbourVote
from knowledge.tenants import Tenant

FALLBACK_LOCALES = ("de", "en")
Curve = tuple[tuple[float, ...], tuple[float, ...]]  # increasing signal values, and the effect at each
FLAT: Curve = ((0.0, 1.0), (0.0, 0.0))
PARAMS_FILE = Path(__file__).with_name("search.yaml")


@dataclass(frozen=True)
class SearchParams:
    dense_floor: float = 0.78
    dense_ceiling: float = 0.94
    lexical_half: float = 10.0
    lexical_weight: float = 0.3
    classifier_weight: float = 0.5  # share of the topic classifier in the dense part
    cross_locale_penalty: float = 0.0
    answer_threshold: float = 0.5  # probability of being in scope below which Lotse abstains
    # Between the answer threshold and this one, Lotse answers with a caution: the entry is general information
    # that may not settle the person's own case, and a counsellor can (``tune`` places it over most of the
    # out-of-scope questions that are still answered).
    caution_threshold: float = 0.0
    # One curve per FEATURES: (signal values, effect on the log-odds at each of them), interpolated linearly.
    abstention_curves: tuple[Curve, ...] = (FLAT,) * 5 + (((0.0, 1.0), (0.0, 12.0)),) + (FLAT,) * 7
    abstention_bias: float = -6.0
    relevance_floor: float = 0.0  # cosine below which no entry can fit, whatever the other signals say
    # When Lotse declines, the best entries are still offered as close topics (not as an answer) if the best
    # fused score reaches this: a person asking about their own case often finds the general entry there, while
    # questions far from everything stay below it (``tune`` places it over 99 % of the tuning set's declined far
    # and chatter questions).
    close_threshold: float = math.inf  # never, unless search.yaml sets it
    # Lotse asks back, offering the best topics, when the best two topics' fused scores are closer than this: a
    # wrong entry given as the answer is the worst failure, one more tap the cheapest fix (docs/benchmarks.md,
    # round 36, says how it was chosen).
    ambiguity_margin: float = 0.02
    local_margin: float = 0.1
    candidates: int = 256
    # The labelled questions (``Manifest.training``) the abstention model was fitted with; the classifier that
    # produces its signals is trained on them, so a build from other ones needs ``make tune``.
    fitted_on: str = ""

    @classmethod
    def load(cls, path: Path = PARAMS_FILE) -> SearchParams:
        if not path.exists():
            return cls()
        data = yaml.safe_load(path.read_text()) or {}
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.get("params", data).items() if k in known}
        curves = values.get("abstention_curves")
        if curves is not None:  # {feature: {at: [...], effect: [...]}}; a feature the file lacks has no effect
            values["abstention_curves"] = tuple(_curve(curves.get(name)) for name in FEATURES)
        return cls(**values)

    def save(self, path: Path, comment: str = "") -> None:
        header = "".join(f"# {line}\n" for line in comment.splitlines())
        data = asdict(self)
        data["abstention_curves"] = {
            name: {"at": list(at), "effect": list(effect)}
            for name, (at, effect) in zip(FEATURES, self.abstention_curves, strict=True)
        }
        dumped = yaml.safe_dump(
            {"params": data}, sort_keys=False, allow_unicode=True, default_flow_style=None, width=120
        )  # lists of numbers on one line each
        path.write_text(header + dumped)


def _curve(stored: dict | None) -> Curve:
    if not stored:
        return FLAT
    at, effect = tuple(float(v) for v in stored["at"]), tuple(float(v) for v in stored["effect"])
    if len(at) != len(effect) or len(at) < 2 or any(b < a for a, b in zip(at, at[1:])):
        raise ValueError(f"an abstention curve needs as many effects as increasing points: {stored}")
    return at, effect


# Signals for the answer/abstain decision; none depends on a topic or a language. ``outside_probability`` is what
# the classifier gives all the "none of the topics" classes together (``knowledge.boundaries``), which cover far,
# local, everyday, near and chatter; the ``neighbour_*`` signals are the vote of the nearest labelled questions of
# every kind, in scope and out (``knowledge.neighbours``). A search.yaml without a signal's curve ignores it.
FEATURES = (
    "dense_top",
    "dense_margin",
    "lexical_top",
    "lexical_margin",
    "agree",
    "fused_top",
    "fused_margin",
    "coverage",
    "classifier_top",
    "outside_probability",
    "neighbour_outside_10",
    "neighbour_outside_30",
    "neighbour_gap",
)


def in_scope_probability(features: tuple[float, ...], params: SearchParams) -> float:
    """A signal that could not be measured (NaN: no labelled questions to vote) adds no effect."""
    z = params.abstention_bias + sum(
        float(np.interp(x, at, effect))
        for x, (at, effect) in zip(features, params.abstention_curves)
        if not math.isnan(x)
    )
    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float
    dense: float
    lexical: float
    fallback: bool  # the entry is not available in the requested locale; ``entry`` is German or English


@dataclass(frozen=True)
class SearchResult:
    query: str
    locale: str
    hits: list[Hit]
    answerable: bool
    ambiguous: bool
    confidence: float = 0.0  # probability that the question is in scope
    features: tuple[float, ...] = ()
    boundary: str | None = None  # when abstaining: the uncovered subject more likely than any entry, if one is
    cautious: bool = False  # answerable, but with a confidence low enough to say "your own case may differ"
    close: bool = False  # not answerable, but the best entries are near enough to offer as close topics
    follow_up: bool = False  # read together with the same person's question before (``knowledge.follow_up``)

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


class Searcher:
    """Answers "which entries fit this question?" for one loaded index. Thread-safe for reads."""

    def __init__(
        self,
        index: KnowledgeIndex,
        embedder: Embedder,
        params: SearchParams | None = None,
        topic_of: Callable[[str], str | None] | None = None,  # Catalogue.topic_of; without it, every id is a topic
    ) -> None:
        if index.manifest.model_id != embedder.model_id:
            raise ValueError(
                f"index was built with {index.manifest.model_id!r} but the embedder is {embedder.model_id!r}; "
                "rebuild the index (make index)"
            )
        self.index = index
        self.embedder = embedder
        self.params = params or SearchParams()
        asked: dict[tuple[str, str], list[str]] = {}
        for question in index.training:
            if question.subject is None:
                asked.setdefault((question.label, question.locale), []).append(question.text)
        self.lexical = LexicalIndex(list(index.entries.values()), asked)
        self.neighbours = NeighbourVote(
            index.training_vectors, np.array([q.subject is not None for q in index.training], dtype=bool)
        )
        self._versions: dict[str, dict[str, Entry]] = {}
        for entry in index.entries.values():
            self._versions.setdefault(entry.id, {})[entry.locale] = entry
        self.topic_of = topic_of or (lambda entry_id: entry_id)
        self._topics = {entry_id: self.topic_of(entry_id) or entry_id for entry_id in self._versions}

    # -- pieces, public so that evaluation can measure each part -------------------------------------
    def dense_scores(self, query_vector: np.ndarray, locale: str, params: SearchParams) -> dict[str, float]:
        """Best chunk score per entry (other locales' chunks count too, minus a small penalty)."""
        scores, ids = self.index.search_vectors(query_vector, params.candidates)
        best: dict[str, float] = {}
        for score, row_id in zip(scores, ids):
            if row_id < 0:
                continue
            row = self.index.rows[row_id]
            value = float(score) - (0.0 if row.locale == locale else params.cross_locale_penalty)
            if value > best.get(row.entry_id, -1.0):
                best[row.entry_id] = value
        return best

    def lexical_scores(self, query: str, locale: str) -> dict[str, float]:
        return {entry_id: s for (entry_id, _), s in self.lexical.scores(query, locale).items()}

    def classify(self, query_vector: np.ndarray, query: str | None = None) -> tuple[dict[str, float], dict[str, float]]:
        """Classifier probabilities per entry id and per boundary subject.

        An entry and its more specific children ("kita.costs", "kita.costs.musterstadt") answer the same
        topic for different places; each gets the probability of the whole topic, and the other signals and
        the tenant preference choose between them.
        """
        if self.index.classifier is None:
            return {}, {}
        probabilities = self.index.classifier.probabilities(query_vector, query)
        boundaries = {
            label.removeprefix(CLASS_PREFIX): p for label, p in probabilities.items() if label.startswith(CLASS_PREFIX)
        }
        entry_ids = [label for label in probabilities if not label.startswith(CLASS_PREFIX)]
        topics: dict[str, float] = {}
        for entry_id in entry_ids:
            topic = self._topics.get(entry_id, entry_id)
            topics[topic] = topics.get(topic, 0.0) + probabilities[entry_id]
        return {entry_id: topics[self._topics.get(entry_id, entry_id)] for entry_id in entry_ids}, boundaries

    def version(self, entry_id: str, locale: str, tenant: Tenant | None = None) -> tuple[Entry, bool] | None:
        """The entry in ``locale`` (else German or English: ``fallback`` True), if ``tenant`` may see it: every
        way to an entry (search, entry id, button payload) goes through here, so tenant-local entries stay
        with their tenant."""
        versions = self._versions.get(entry_id, {})
        if versions and not _visible(next(iter(versions.values())), tenant):
            return None
        if locale in versions:
            return versions[locale], False
        for code in FALLBACK_LOCALES:
            if code in versions:
                return versions[code], True
        return None

    def menu_entries(self, topic: str, tenant: Tenant | None) -> list[str]:
        """The entries a topic menu shows for ``topic``: the tenant's own (or its state's) versions, which win
        over the general entry as they do in search, else the general entry."""
        children = [e for e, t in self._topics.items() if t == topic and e != topic]
        specific = [e for e in sorted(children) if _specific_to(self._any_version(e), tenant)]
        return specific or ([topic] if topic in self._versions else [])

    def _any_version(self, entry_id: str) -> Entry:
        return next(iter(self._versions[entry_id].values()))

    # -- the whole thing --------------------------------------------------------------------------------
    def search(
        self,
        query: str,
        locale: str,
        tenant: Tenant | None = None,
        k: int = 5,
        query_vector: np.ndarray | None = None,
        params: SearchParams | None = None,  # evaluation and tuning try other parameters without sharing them
        vote_vector: np.ndarray | None = None,  # whose nearest labelled questions vote; by default the query's
    ) -> SearchResult:
        p = params or self.params
        if query_vector is None:
            query_vector = self.embedder.encode_queries([query])[0]
        return self.decide(self.gather(query, locale, query_vector, p, vote_vector), tenant, k, p)

    def gather(
        self,
        query: str,
        locale: str,
        query_vector: np.ndarray,
        params: SearchParams,
        vote_vector: np.ndarray | None = None,
    ) -> Evidence:
        """Everything the search knows about the question before it weighs anything."""
        classifier, outside = self.classify(query_vector, query)
        return Evidence(
            query,
            locale,
            self.dense_scores(query_vector, locale, params),
            self.lexical_scores(query, locale),
            classifier,
            outside,
            self.neighbours.signals(query_vector if vote_vector is None else vote_vector),
        )

    def decide(self, evidence: Evidence, tenant: Tenant | None, k: int, params: SearchParams) -> SearchResult:
        """Fuse the evidence into a ranking and decide whether the best entry answers the question."""
        p, dense, lexical, classifier = params, evidence.dense, evidence.lexical, evidence.classifier
        hits: dict[str, Hit] = {}
        span = max(p.dense_ceiling - p.dense_floor, 1e-6)
        weight = p.classifier_weight if classifier else 0.0
        likely = {entry_id for entry_id, probability in classifier.items() if probability >= 0.01}
        for entry_id in set(dense) | set(lexical) | likely:
            found = self.version(entry_id, evidence.locale, tenant)
            if found is None:
                continue
            d = min(max((dense.get(entry_id, p.dense_floor) - p.dense_floor) / span, 0.0), 1.0)
            d = (1 - weight) * d + weight * classifier.get(entry_id, 0.0)
            lex_raw = lexical.get(entry_id, 0.0)
            lx = lex_raw / (lex_raw + p.lexical_half)
            score = (1 - p.lexical_weight) * d + p.lexical_weight * lx
            hits[entry_id] = Hit(found[0], score, dense.get(entry_id, 0.0), lex_raw, found[1])

        ranked = _prefer_local(hits, tenant, p.local_margin, self._topics)
        ranked.sort(key=lambda h: h.score, reverse=True)
        top = ranked[: max(k, 2)]
        coverage = self.lexical.coverage(evidence.query, top[0].entry.key) if top else 0.0
        classifier_top = max(classifier.values(), default=0.0)
        outside_probability = sum(evidence.outside.values())
        features = signals(dense, lexical, top, coverage, classifier_top, outside_probability, evidence.neighbours)
        confidence = in_scope_probability(features, p) if top else 0.0
        relevant = max(dense.values(), default=0.0) >= p.relevance_floor
        answerable = bool(top) and relevant and confidence >= p.answer_threshold
        # A choice between topics, not between two entries of one topic (the search orders those better than a
        # person could).
        topics = one_per_topic(top, self._topics.get)
        ambiguous = answerable and len(topics) > 1 and topics[0][1].score - topics[1][1].score < p.ambiguity_margin
        cautious = answerable and confidence < p.caution_threshold
        belongs_outside = not answerable and outside_probability > classifier_top
        subject = _uncovered_subject(evidence.outside, classifier_top) if belongs_outside else None
        close = not answerable and bool(top) and top[0].score >= p.close_threshold
        return SearchResult(
            evidence.query,
            evidence.locale,
            top[:k],
            answerable,
            ambiguous,
            confidence,
            features,
            subject,
            cautious,
            close,
        )


@dataclass(frozen=True)
class Evidence:
    """Per-entry scores of each part of the search for one question, before any weighting."""

    query: str
    locale: str
    dense: dict[str, float]  # best chunk cosine per entry id
    lexical: dict[str, float]  # BM25 per entry id, in the question's locale
    classifier: dict[str, float]  # topic probability per entry id
    outside: dict[str, float]  # probability per boundary subject and out-of-scope class
    neighbours: tuple[float, float, float] = NO_NEIGHBOURS  # the nearest labelled questions' vote


def _uncovered_subject(outside: dict[str, float], classifier_top: float) -> str:
    """The named subject (pets, divorce-custody, ...) more likely than any topic, else the likeliest broad class.
    A named subject tells a maintainer which entry to write; the broad classes, learned from thousands of
    questions, outweigh it even where it is plainly the subject ("which vet for my cat": everyday 0.72, pets
    0.11, the best topic 0.01)."""
    named = {subject: p for subject, p in outside.items() if not subject.startswith(GENERAL_PREFIX)}
    best_named = max(named, key=named.__getitem__, default=None)
    if best_named is not None and named[best_named] > classifier_top:
        return best_named
    return max(outside, key=outside.__getitem__)


def _top_two(scores: dict[str, float]) -> tuple[str | None, float, float]:
    if not scores:
        return None, 0.0, 0.0
    ordered = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    second = ordered[1][1] if len(ordered) > 1 else 0.0
    return ordered[0][0], ordered[0][1], second


def one_per_topic(hits: list[Hit], topic_of: Callable[[str], str | None]) -> list[tuple[str, Hit]]:
    """The best hit of each catalogue topic with its topic, in rank order (an id outside the catalogue is its own
    topic): what the evaluation ranks and what the bot offers as close topics."""
    best: dict[str, Hit] = {}
    for hit in hits:
        best.setdefault(topic_of(hit.entry.id) or hit.entry.id, hit)
    return list(best.items())


def signals(
    dense: dict[str, float],
    lexical: dict[str, float],
    ranked: list[Hit],
    coverage: float,
    classifier_top: float = 0.0,
    outside_probability: float = 0.0,
    neighbours: tuple[float, float, float] = NO_NEIGHBOURS,
) -> tuple[float, ...]:
    """The feature vector of ``FEATURES`` for one query."""
    dense_id, dense_top, dense_second = _top_two(dense)
    lexical_id, lexical_top, lexical_second = _top_two(lexical)
    fused_top = ranked[0].score if ranked else 0.0
    fused_second = ranked[1].score if len(ranked) > 1 else 0.0
    return (
        dense_top,
        dense_top - dense_second,
        math.log1p(lexical_top),
        math.log1p(lexical_top) - math.log1p(lexical_second),
        float(dense_id is not None and dense_id == lexical_id),
        fused_top,
        fused_top - fused_second,
        coverage,
        classifier_top,
        outside_probability,
        *neighbours,
    )


def _visible(entry: Entry, tenant: Tenant | None) -> bool:
    """Tenant-local entries are only for their tenant."""
    return not entry.is_local or (tenant is not None and entry.region == tenant.id)


def _specific_to(entry: Entry, tenant: Tenant | None) -> bool:
    if tenant is None:
        return False
    return entry.region == tenant.id or (entry.region.startswith("DE-") and entry.region == tenant.region)


def _prefer_local(hits: dict[str, Hit], tenant: Tenant | None, margin: float, topics: dict[str, str]) -> list[Hit]:
    """A tenant's own entry (or its state's) outranks the general entry of its topic when close to it."""
    result = dict(hits)
    for entry_id, hit in hits.items():
        if not _specific_to(hit.entry, tenant):
            continue
        topic = topics.get(entry_id, entry_id)
        general = hits.get(topic) if topic != entry_id else None
        if general and hit.score >= general.score - margin:
            result[entry_id] = Hit(
                hit.entry, max(hit.score, general.score + 1e-3), hit.dense, hit.lexical, hit.fallback
            )
    return list(result.values())
