"""How many chat turns embed a second text: the follow-up reading (``knowledge.follow_up``).

    .venv/bin/python -m bench.follow_up_share [--sample 400] eval/dev.yaml eval/free14.yaml

A turn's message is embedded once. When the message is short (``may_follow_up``) and finds no confident answer
alone, and the same person asked a question before, it is searched again together with that question: a second,
longer text to embed. This prints, per set, the share of messages that would take the second search if each had a
previous question, and the characters embedded per message, so the load runs of two sets can be compared by the
work they ask for. An upper bound for ``bench.load``: there the first turn of a session has no previous question,
and a greeting or a request for a person is no question to read after. No server, no timing: the real index and
model only.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from bench.common import read_set, served_searcher
from knowledge.follow_up import confident, may_follow_up

PREVIOUS = "a question the same person asked a moment ago"  # any previous message allows the reading


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--sample", type=int, default=400, help="messages drawn from each set (seeded)")
    args = parser.parse_args()
    searcher = served_searcher()
    print("set | messages | second search | characters embedded per message (alone -> with the second search)")
    for path in args.sets:
        questions = read_set(path)
        questions = random.Random(1).sample(questions, min(args.sample, len(questions)))
        vectors = searcher.embedder.encode_queries([q.q for q in questions])
        again = [
            q
            for q, vector in zip(questions, vectors)
            if may_follow_up(q.q, PREVIOUS)
            and not confident(searcher.search(q.q, q.locale, None, k=5, query_vector=vector))
        ]
        alone = sum(len(q.q) for q in questions) / len(questions)
        # The second text is the previous message and this one; in a load run the previous one is from the same set.
        with_second = alone + sum(len(q.q) + alone for q in again) / len(questions)
        share = len(again) / len(questions)
        print(f"{path} | {len(questions)} | {share:.3f} | {alone:.0f} -> {with_second:.0f}")


if __name__ == "__main__":
    main()
