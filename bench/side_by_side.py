"""The same chat turns against two stacks running side by side that differ in one environment setting.

    .venv/bin/python -m bench.side_by_side --setting LOTSE_RASA_VALIDATE_ONCE [--turns 150]

The first stack runs with the setting ``false`` (before), the second with ``true`` (after). The turns
alternate between the two stacks, so that both see the same load from whatever else runs on the machine.
Prints latency percentiles per variant; ``bench.embed_once`` uses it for ``LOTSE_NLU_SHARES_VECTOR``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.common import percentiles, timed_chat_turn
from knowledge.question_sets import load_questions
from tests.stack import Stack, start_stack

ROOT = Path(__file__).resolve().parent.parent
WARM_UP = 20


def compare(setting: str, variants: dict[str, str], turns: int, check: Callable[[Stack], str] | None = None) -> None:
    """Chat turns on one stack per variant (name -> value of ``setting``); prints percentiles per variant and,
    with ``check``, one line per stack that says whether the setting took effect."""
    questions = [q for q in load_questions(ROOT / "eval" / "dev.yaml") if q.topic][:turns]
    with tempfile.TemporaryDirectory() as tmp:
        stacks: dict[str, Stack] = {}
        try:
            for n, (name, value) in enumerate(variants.items()):
                (Path(tmp) / str(n)).mkdir()
                os.environ[setting] = value  # the stack's processes inherit the environment
                stacks[name] = start_stack(Path(tmp) / str(n))
            clients = {name: httpx.Client(base_url=s.api_url, timeout=30) for name, s in stacks.items()}
            samples: dict[str, list[float]] = {name: [] for name in stacks}
            warm_up = questions[:WARM_UP]
            for i, q in enumerate([*warm_up, *questions]):
                for name, client in clients.items():
                    elapsed = timed_chat_turn(client, f"bench-{i // 10}", q)
                    if i >= len(warm_up):  # fewer turns than WARM_UP: warm up with all of them
                        samples[name].append(elapsed)
            width = max(map(len, variants))
            for name, values in samples.items():
                print(f"chat turn, {name:{width}s} {percentiles(values)}")
            for name, stack in stacks.items():
                if check:
                    print(f"{name:{width}s} {check(stack)}")
        finally:
            for stack in stacks.values():
                stack.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--setting", required=True, help="an environment setting that takes false/true")
    parser.add_argument("--turns", type=int, default=150, help="turns per variant")
    args = parser.parse_args()
    compare(args.setting, {f"{args.setting}=false": "false", f"{args.setting}=true": "true"}, args.turns)


if __name__ == "__main__":
    main()
