"""One embedding per chat turn, measured: the same chat turns against two stacks running side by side, one whose
Rasa featurizer passes the message's vector on to the answer action (the product) and one where the action
embeds the question again (``LOTSE_NLU_SHARES_VECTOR=false``, as before).

    .venv/bin/python -m bench.embed_once [--turns 200]

Prints latency percentiles per variant (``bench.side_by_side``) and whether the vector really reached the
tracker.
"""

from __future__ import annotations

import argparse
import sqlite3

from bench.side_by_side import compare
from tests.stack import Stack

VARIANTS = {"embedded twice (before)": "false", "embedded once (after)": "true"}


def vectors_in_tracker(stack: Stack) -> str:
    with sqlite3.connect(stack.workdir / "tracker.sqlite3") as db:
        count = db.execute("SELECT COUNT(*) FROM events WHERE data LIKE '%query_vector%'").fetchone()[0]
    return f"user turns with a vector in the tracker: {count}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=200, help="turns per variant")
    args = parser.parse_args()
    compare("LOTSE_NLU_SHARES_VECTOR", VARIANTS, args.turns, check=vectors_in_tracker)


if __name__ == "__main__":
    main()
