"""Where a chat turn's time goes: the same questions through each layer of the real product, side by side.

    .venv/bin/python -m bench.chat_parts [--turns 150] [--endpoints endpoints.yml] [--set eval/free14.yaml]

Starts the product on free loopback ports (as the end-to-end tests do) and sends each development question,
in turn, as
- a search on the API (`GET /api/v1/search`: embedding and knowledge search, no dialogue);
- a message straight to Rasa's REST channel, as the API sends it (NLU with the embedding, policies, tracker
  store, the answer action on the action server, the responses);
- a chat turn on the API (`POST /api/v1/chat`: the above plus pseudonyms, locale, the turn lock, counting);
and a greeting straight to Rasa (the dialogue's fixed cost: NLU and policies, no knowledge search).
``--set`` sends another set's messages, in and out of scope alike (the development set's in-scope ones by default).
The differences between the rows say which layer costs what; `bench.chat_turn` gives the turn alone.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx

from bench.common import percentiles
from knowledge.question_sets import load_questions
from tests.stack import start_stack

ROOT = Path(__file__).resolve().parent.parent


def timed(call: Callable[[], httpx.Response]) -> float:
    started = time.perf_counter()
    response = call()
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.text
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=150, help="questions per layer")
    parser.add_argument("--endpoints", default="endpoints.yml", help="Rasa's endpoints file in bot/ (tracker store)")
    parser.add_argument("--set", type=Path, help="question set to send (e.g. a free set's longer messages)")
    args = parser.parse_args()
    if args.set:  # the same sample every run, from the whole set (a set is grouped by locale)
        asked = load_questions(args.set)
        questions = random.Random(0).sample(asked, min(args.turns, len(asked)))
    else:
        questions = [q for q in load_questions(ROOT / "eval" / "dev.yaml") if q.topic][: args.turns]
    os.environ.setdefault("LOTSE_RATE_LIMIT_IP", "100000/minute")  # one client sends everything
    os.environ.setdefault("LOTSE_RATE_LIMIT_SESSION", "100000/minute")
    layers: dict[str, list[float]] = {"search": [], "rasa": [], "chat": [], "rasa greeting": []}
    with tempfile.TemporaryDirectory() as tmp:
        stack = start_stack(Path(tmp), endpoints=args.endpoints)
        try:
            with httpx.Client(timeout=30) as client:

                def rasa(sender: str, text: str, locale: str) -> Callable[[], httpx.Response]:
                    metadata = {"locale": locale, "locale_source": "request", "tenant": "demo", "channel": "web"}
                    body = {"sender": sender, "message": text, "metadata": metadata}
                    return partial(client.post, f"{stack.rasa_url}/webhooks/rest/webhook", json=body)

                for i, q in enumerate(questions):
                    session = f"bench-{i // 10}"  # a new conversation every 10 turns, as in bench.chat_turn
                    chat = {"session_id": session, "message": q.q, "locale": q.locale}
                    calls = {
                        "search": partial(
                            client.get, f"{stack.api_url}/api/v1/search", params={"q": q.q, "locale": q.locale, "k": 3}
                        ),
                        "rasa": rasa(f"rasa-{session}", q.q, q.locale),
                        "chat": partial(client.post, f"{stack.api_url}/api/v1/chat", json=chat),
                        "rasa greeting": rasa(f"greet-{session}", "Hallo", "de"),
                    }
                    for name, call in calls.items():
                        elapsed = timed(call)
                        if i >= 10:  # the first ten warm every layer up
                            layers[name].append(elapsed)
            for name, samples in layers.items():
                print(f"{name:14s} {percentiles(samples)}")
        finally:
            stack.stop_all()


if __name__ == "__main__":
    main()
