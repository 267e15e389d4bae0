"""What gets embedded for an entry: the ways people ask it, and what it says.

Questions and the title are embedded as queries (e5 models are trained for query-query similarity with the
same prefix); title with summary and the body paragraphs are embedded as passages. An entry's dense score is the best of
its chunks, so one good paraphrase in ``questions`` is enough to find it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from knowledge.models import Entry

ChunkKind = Literal["question", "title", "summary", "body"]
MAX_BODY_CHARS = 900
# Only the beginning of the body is embedded: further body chunks changed no ranking on the development set
# but tripled the build time (docs/benchmarks.md). The whole body is still searched lexically (BM25).
MAX_BODY_CHUNKS = 1
# Bump when what gets embedded changes: an index built with another version is rebuilt in full.
CHUNKER_VERSION = 3


@dataclass(frozen=True)
class Chunk:
    entry_id: str
    locale: str
    kind: ChunkKind
    text: str

    @property
    def as_query(self) -> bool:
        return self.kind in ("question", "title")


def _body_parts(body: str) -> list[str]:
    """Paragraphs joined up to ``MAX_BODY_CHARS`` so that lists stay with their lead sentence; a single
    paragraph longer than that is cut at a word boundary."""
    parts, current = [], ""
    for paragraph in [p.strip() for p in body.split("\n\n") if p.strip()]:
        if current and len(current) + len(paragraph) > MAX_BODY_CHARS:
            parts.append(current)
            current = paragraph
        else:
            current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        parts.append(current)
    return [p if len(p) <= MAX_BODY_CHARS else p[:MAX_BODY_CHARS].rsplit(" ", 1)[0] for p in parts]


def chunk_entry(entry: Entry) -> list[Chunk]:
    chunks = [Chunk(entry.id, entry.locale, "question", q) for q in entry.questions]
    # Titles are phrased like questions ("Was kostet die Kita?"): matched query to query.
    chunks.append(Chunk(entry.id, entry.locale, "title", entry.title))
    chunks.append(Chunk(entry.id, entry.locale, "summary", f"{entry.title}. {entry.summary}"))
    chunks += [
        Chunk(entry.id, entry.locale, "body", f"{entry.title}. {part}")
        for part in _body_parts(entry.body)[:MAX_BODY_CHUNKS]
    ]
    return chunks
