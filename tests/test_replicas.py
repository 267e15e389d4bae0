"""Two API replicas (real uvicorn processes, `python -m api`) on one real Redis server: they share rate limits
(per session and per address), answer a webhook retried to the other replica once, and know each other's button
keys.

Rasa and the Telegram Bot API are played by one small HTTP server in this process, so the test sees exactly
what the replicas sent to each."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.stack import ROOT, _environment, free_port

TOKEN = "123456:replica-token"
SECRET = "replica-secret"
LONG_PAYLOAD = '/ask_entry{"entry_id":"recognition.health-professions.nursing-and-care"}'


@dataclass
class Upstream:
    """What the replicas sent to Rasa's REST channel and to the Bot API's sendMessage."""

    rasa: list[dict] = field(default_factory=list)
    sent: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: dict[str, int] = field(default_factory=dict)  # turns Rasa is working on, per sender
    most_in_flight: dict[str, int] = field(default_factory=dict)


def serve_upstream(record: Upstream) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep the test output clean
            pass

        def _answer(self, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # Rasa's liveness ("/")
            self._answer({"version": "fake"})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            if self.path == "/webhooks/rest/webhook":
                sender = body["sender"]
                with record.lock:
                    record.rasa.append(body)
                    record.in_flight[sender] = record.in_flight.get(sender, 0) + 1
                    record.most_in_flight[sender] = max(record.most_in_flight.get(sender, 0), record.in_flight[sender])
                time.sleep(0.3)  # a turn takes a while, so that overlapping turns would show
                with record.lock:
                    record.in_flight[sender] -= 1
                reply = {"text": "Hallo!", "locale": "de", "buttons": [{"title": "Pflege", "payload": LONG_PAYLOAD}]}
                return self._answer([{"recipient_id": sender, "custom": reply}])
            if self.path.endswith("/sendMessage"):
                with record.lock:
                    record.sent.append(body)
            self._answer({"ok": True, "result": True})

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass
class Replicas:
    urls: list[str]
    upstream: Upstream


@contextmanager
def running_replicas(redis_url: str, workdir: Path, settings: dict[str, str]) -> Iterator[Replicas]:
    """Two API processes on one Redis, with Rasa and the Bot API played by one server in this process."""
    record = Upstream()
    server = serve_upstream(record)
    upstream_url = f"http://127.0.0.1:{server.server_port}"
    processes, urls = [], []
    try:
        for i in range(2):
            port = free_port()
            env = _environment(workdir, port, free_port(), free_port()) | {
                "LOTSE_RASA_URL": upstream_url,
                "LOTSE_REDIS_URL": redis_url,
                "LOTSE_DATA_DIR": str(workdir / f"data{i}"),
                "LOTSE_TELEGRAM_BOT_TOKEN": TOKEN,
                "LOTSE_TELEGRAM_SECRET_TOKEN": SECRET,
                "LOTSE_TELEGRAM_API_URL": upstream_url,
                "LOTSE_INDEX_WATCH_SECONDS": "0",
                **settings,
            }
            log = open(workdir / f"api{i}.log", "wb")  # noqa: SIM115 - the child process keeps writing to it
            processes.append(
                subprocess.Popen([sys.executable, "-m", "api"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            )
            urls.append(f"http://127.0.0.1:{port}")
        for url, process in zip(urls, processes, strict=True):
            wait_ready(url, process, workdir)
        yield Replicas(urls, record)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def replicas(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    with running_replicas(redis_url, tmp_path_factory.mktemp("replicas"), {"LOTSE_RATE_LIMIT_SESSION": "3/day"}) as r:
        yield r


def wait_ready(url: str, process: subprocess.Popen, workdir: Path, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in workdir.glob("api*.log"))
            raise RuntimeError(f"an API replica exited early:\n{logs}")
        try:
            if httpx.get(f"{url}/readyz", timeout=5).json().get("status") == "ready":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {timeout:.0f} s")


def wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def telegram(url: str, body: dict) -> httpx.Response:
    return httpx.post(f"{url}/webhooks/telegram", json=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})


def message_update(update_id: int, chat_id: int, text: str) -> dict:
    chat = {"id": chat_id, "type": "private"}
    message = {"message_id": update_id, "date": 0, "text": text, "from": {"id": chat_id, "is_bot": False}, "chat": chat}
    return {"update_id": update_id, "message": message}


def test_replicas_share_the_per_session_limit(replicas: Replicas) -> None:
    first, second = replicas.urls
    body = {"session_id": uuid.uuid4().hex, "message": "Hallo", "locale": "de"}
    statuses = [httpx.post(f"{url}/api/v1/chat", json=body).status_code for url in (first, second, first, second)]
    assert statuses == [200, 200, 200, 429]


def test_replicas_share_the_per_address_limit(redis_url: str, tmp_path: Path) -> None:
    """Everyone behind one address (a shelter's shared line) has one budget, whichever replica answers: with a
    limit of 5 a minute, the sixth request is refused, on either replica."""
    with running_replicas(redis_url, tmp_path, {"LOTSE_RATE_LIMIT_IP": "5/minute"}) as strict:
        first, second = strict.urls
        urls = [first, second] * 4
        statuses = [httpx.get(f"{url}/api/v1/entries/arrival.registration").status_code for url in urls]
    assert statuses == [200] * 5 + [429] * 3


def test_turns_of_one_conversation_reach_rasa_one_at_a_time(replicas: Replicas) -> None:
    """Rasa's open-source Redis lock store does not serialise turns between Rasa replicas; the API does."""
    text = f"Hallo {uuid.uuid4().hex}"
    body = {"session_id": uuid.uuid4().hex, "message": text, "locale": "de"}
    with ThreadPoolExecutor(3) as pool:
        answers = list(
            pool.map(
                lambda url: httpx.post(f"{url}/api/v1/chat", json=body, timeout=30), replicas.urls + replicas.urls[:1]
            )
        )
    assert [a.status_code for a in answers] == [200] * 3
    (sender,) = {m["sender"] for m in replicas.upstream.rasa if m["message"] == text}
    assert replicas.upstream.most_in_flight[sender] == 1


def test_a_webhook_retried_to_both_replicas_is_answered_once(replicas: Replicas) -> None:
    text, chat_id = f"Frage {uuid.uuid4().hex}", 424242
    update = message_update(int(time.time() * 1000) % 2**31, chat_id, text)
    with ThreadPoolExecutor(4) as pool:  # the platform's retries, to both replicas at the same time
        answers = list(pool.map(lambda url: telegram(url, update), replicas.urls * 2))
    assert [a.status_code for a in answers] == [200] * 4
    wait_until(lambda: any(m["chat_id"] == chat_id for m in replicas.upstream.sent))
    time.sleep(1.0)  # time for a duplicate to show up, if there were one
    assert [m["message"] for m in replicas.upstream.rasa].count(text) == 1
    assert len([m for m in replicas.upstream.sent if m["chat_id"] == chat_id]) == 1


def test_a_button_sent_by_one_replica_works_on_the_other(replicas: Replicas) -> None:
    first, second = replicas.urls
    chat_id = 434343
    telegram(first, message_update(int(time.time() * 1000) % 2**31 + 1, chat_id, "Pflege"))
    wait_until(lambda: any(m["chat_id"] == chat_id for m in replicas.upstream.sent))
    sent = next(m for m in replicas.upstream.sent if m["chat_id"] == chat_id)
    key = sent["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert key.startswith("~")  # the payload is too long for Telegram: it travels as a key
    pressed = {
        "update_id": int(time.time() * 1000) % 2**31 + 2,
        "callback_query": {
            "id": "cb",
            "data": key,
            "chat_instance": "1",
            "from": {"id": chat_id},
            "message": {"message_id": 1, "date": 0, "chat": {"id": chat_id, "type": "private"}},
        },
    }
    telegram(second, pressed)
    wait_until(lambda: any(m["message"] == LONG_PAYLOAD for m in replicas.upstream.rasa))
