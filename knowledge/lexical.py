"""BM25 over entries, one index per locale (bm25s).

Each entry is one document: title, questions, summary and body, plus the topic questions written for it
(``knowledge/questions``), which bring the words people really type: colloquial words, typos, Arabic and
Persian in Latin letters. Tokens come from ``text.lexical_tokens``, which folds diacritics and adds prefix
stems, so the same code serves all nine scripts.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import bm25s
import numpy as np

from knowledge.models import Entry
from knowledge.text import lexical_tokens


def document_text(entry: Entry, asked: Sequence[str] = ()) -> str:
    return "\n".join([entry.title, *entry.questions, *asked, entry.summary, entry.body])


@dataclass
class LocaleIndex:
    keys: list[tuple[str, str]]
    bm25: bm25s.BM25 | None
    token_sets: list[frozenset[str]] = field(default_factory=list)
    idf: dict[str, float] = field(default_factory=dict)
    unknown_idf: float = 1.0


class LexicalIndex:
    def __init__(
        self,
        entries: list[Entry],
        asked: Mapping[tuple[str, str], Sequence[str]] | None = None,  # (entry id, locale) -> topic questions
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        asked = asked or {}
        by_locale: dict[str, list[Entry]] = {}
        for entry in entries:
            by_locale.setdefault(entry.locale, []).append(entry)
        self._indexes: dict[str, LocaleIndex] = {}
        for locale, group in by_locale.items():
            corpus = [lexical_tokens(document_text(e, asked.get(e.key, ())), locale=locale) for e in group]
            bm25 = bm25s.BM25(k1=k1, b=b)
            bm25.index(corpus, show_progress=False)
            token_sets = [frozenset(tokens) for tokens in corpus]
            df = Counter(token for tokens in token_sets for token in tokens)
            n = len(corpus)
            idf = {token: math.log((n - count + 0.5) / (count + 0.5) + 1) for token, count in df.items()}
            self._indexes[locale] = LocaleIndex(
                keys=[e.key for e in group], bm25=bm25, token_sets=token_sets, idf=idf, unknown_idf=math.log(n + 1.5)
            )

    def scores(self, query: str, locale: str) -> dict[tuple[str, str], float]:
        """BM25 score of every entry in ``locale`` that shares a token with the query."""
        index = self._indexes.get(locale)
        tokens = lexical_tokens(query, locale=locale)
        if index is None or index.bm25 is None or not tokens:
            return {}
        values = np.asarray(index.bm25.get_scores(tokens), dtype=np.float32)
        return {key: float(v) for key, v in zip(index.keys, values) if v > 0}

    def coverage(self, query: str, key: tuple[str, str]) -> float:
        """Share of the query's informative words (IDF-weighted) that the entry contains.

        Low coverage means the question is about something the entry does not mention: a strong sign that
        the question is out of scope, in every language.
        """
        index = self._indexes.get(key[1])
        tokens = set(lexical_tokens(query, locale=key[1]))
        if index is None or not tokens or key not in index.keys:
            return 0.0
        present = index.token_sets[index.keys.index(key)]
        weights = {t: index.idf.get(t, index.unknown_idf) for t in tokens}
        total = sum(weights.values())
        return sum(w for t, w in weights.items() if t in present) / total if total else 0.0
