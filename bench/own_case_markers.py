"""Do plain marks of a person's own case tell answered out-of-scope messages from answered covered ones?

    .venv/bin/python -m bench.own_case_markers eval/free19.yaml

Most out-of-scope messages that the cross sets' writers send and Lotse answers are `near`: a person's own case with
a date, a letter or an amount, answered by the general entry of the topic beside it. This measures on a set whose
errors have been read whether such a mark says anything the answer-or-decline model does not know already: among the
answered messages, the share out of scope with and without the mark, overall and within bands of the model's own
confidence. No server, no timing: the real index and model only. On a set the index learned from, the confidence is
in-sample and the bands mean little. (Added to the model as signals, the marks gained nothing at the same false
abstention: docs/benchmarks.md, round 30.)
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path

from bench.common import read_set, served_searcher

MARKS: dict[str, Callable[[str], bool]] = {
    "a digit (date, amount, section)": lambda text: re.search(r"\d", text) is not None,
    "more than 25 words": lambda text: len(text.split()) > 25,
}
BANDS = ((0.0, 0.5), (0.5, 0.8), (0.8, 0.95), (0.95, 1.01))


def share(rows: list[tuple[bool, float]]) -> str:
    """``out of scope of answered`` for rows of (out of scope, confidence)."""
    return f"{sum(out for out, _ in rows)} of {len(rows)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set", type=Path)
    args = parser.parse_args()
    searcher = served_searcher()
    questions = read_set(args.set)
    vectors = searcher.embedder.encode_queries([q.q for q in questions])
    answered: list[tuple[str, bool, float]] = []
    for q, vector in zip(questions, vectors):
        result = searcher.search(q.q, q.locale, None, k=5, query_vector=vector)
        if result.answerable:
            answered.append((q.q, q.topic is None, result.confidence))
    print(f"{args.set}: {len(answered)} of {len(questions)} answered; out of scope among the answered:")
    for name, marked in MARKS.items():
        groups = {flag: [(out, c) for text, out, c in answered if marked(text) == flag] for flag in (True, False)}
        print(f"  {name}: with {share(groups[True])}, without {share(groups[False])}")
        for low, high in BANDS:
            band = {flag: [(out, c) for out, c in rows if low <= c < high] for flag, rows in groups.items()}
            bounds = f"{low:.2f}-{min(high, 1.0):.2f}"
            print(f"    confidence {bounds}: with {share(band[True])}, without {share(band[False])}")


if __name__ == "__main__":
    main()
