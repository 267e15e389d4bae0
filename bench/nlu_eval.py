"""Intent accuracy per locale on the held-out NLU test set (bot/tests/nlu/<locale>.yml).

Runs in the Rasa environment:  .venv-rasa/bin/python -m bench.nlu_eval [--train CONFIG ...] [--model PATH]
With --train, each candidate pipeline is trained on bot/data/nlu and measured; the table is what
bot/config.yml was chosen by. Test examples that also occur in the training data (same text after
lower-casing and removing punctuation) are left out, so every number is on unseen messages.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _examples(path: Path) -> list[tuple[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs = []
    for block in data.get("nlu", []):
        if "intent" in block:
            for line in str(block["examples"]).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    pairs.append((line[2:].strip(), block["intent"]))
    return pairs


def test_set() -> dict[str, list[tuple[str, str]]]:
    seen = {_norm(text) for path in (BOT / "data" / "nlu").glob("*.yml") for text, _ in _examples(path)}
    result = {}
    for path in sorted((BOT / "tests" / "nlu").glob("*.yml")):
        result[path.stem] = [(t, i) for t, i in _examples(path) if _norm(t) not in seen]
    return result


async def _evaluate(model: Path, fallback_threshold: float) -> dict[str, tuple[int, int]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    scores: dict[str, tuple[int, int]] = {}
    per_intent: dict[str, list[bool]] = defaultdict(list)
    for locale, examples in test_set().items():
        right = 0
        for text, intent in examples:
            parsed = await agent.parse_message(text)
            predicted = parsed["intent"]["name"]
            if predicted == "nlu_fallback" or parsed["intent"].get("confidence", 1) < fallback_threshold:
                predicted = "ask_question"  # what the bot does with an unsure message
            ok = predicted == intent
            right += ok
            per_intent[intent].append(ok)
        scores[locale] = (right, len(examples))
    print(
        "per intent: " + ", ".join(f"{k} {sum(v) / len(v):.2f}" for k, v in sorted(per_intent.items())), file=sys.stderr
    )
    return scores


def _print(name: str, scores: dict[str, tuple[int, int]], seconds: float | None) -> None:
    total_right = sum(r for r, _ in scores.values())
    total = sum(n for _, n in scores.values())
    cells = " | ".join(f"{loc} {r / n:.3f}" for loc, (r, n) in scores.items())
    timing = f" | train {seconds:.0f}s" if seconds is not None else ""
    print(f"{name}: all {total_right / total:.3f} (n={total}) | {cells}{timing}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", nargs="*", default=[], help="pipeline configs to train and compare")
    parser.add_argument("--model", default=str(BOT / "models" / "lotse.tar.gz"))
    parser.add_argument("--fallback", type=float, default=0.0, help="confidence below which NLU falls back")
    parser.add_argument("--json", action="store_true", help="print accuracy per locale as one JSON line")
    args = parser.parse_args()
    if not args.train:
        scores = asyncio.run(_evaluate(Path(args.model), args.fallback))
        if args.json:
            table = {loc: right / total for loc, (right, total) in scores.items()}
            table["all"] = sum(r for r, _ in scores.values()) / sum(n for _, n in scores.values())
            print(json.dumps(table))
        else:
            _print(Path(args.model).name, scores, None)
        return
    for config in args.train:
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"}
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "rasa",
                    "train",
                    "nlu",
                    "--config",
                    str(Path(config).resolve()),
                    "--nlu",
                    "data/nlu",
                    "--out",
                    out,
                    "--fixed-model-name",
                    "candidate",
                    "--quiet",
                ],
                cwd=BOT,
                check=True,
                stdout=subprocess.DEVNULL,
                env=env,
            )
            seconds = time.perf_counter() - started
            _print(Path(config).stem, asyncio.run(_evaluate(Path(out) / "candidate.tar.gz", args.fallback)), seconds)


if __name__ == "__main__":
    main()
