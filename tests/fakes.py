"""The one set of test fakes: the peers of the API behind one HTTP transport (Rasa's REST channel, the Telegram
Bot API, the WhatsApp Cloud API), Zammad's REST API (as a transport handler or, with the messengers, a real
local HTTP server for the end-to-end tests), a Rasa tracker and dispatcher for the custom actions, and settings
that keep test data out of the repository. Everything else in the tests is real."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from api.config import Settings
from api.pseudonyms import Pseudonyms

RASA_URL = "http://rasa.test"
PSEUDONYM_KEY = "test-pseudonym-key-0123456789abcdef"
TELEGRAM_HOST = "api.telegram.org"
GRAPH_HOST = "graph.facebook.com"


class Upstreams:
    """Rasa and the messenger platforms behind one mock transport; every request is recorded.

    Rasa answers ``rasa_messages`` (custom payloads), by default one "Hallo!" in the locale the API sent, or
    whatever ``rasa_reply`` returns; ``rasa_down`` refuses the connection. The platforms answer success, after
    the responses queued in ``platform_answers``."""

    def __init__(self, rasa_messages: list[dict] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.rasa_messages = rasa_messages
        self.rasa_reply: Callable[[dict], httpx.Response] | None = None
        self.rasa_down = False
        self.rasa_alive = True
        self.platform_answers: list[httpx.Response] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == "rasa.test":
            return self._rasa(request)
        if request.url.host in (TELEGRAM_HOST, GRAPH_HOST):
            if self.platform_answers:
                return self.platform_answers.pop(0)
            if request.url.host == TELEGRAM_HOST:
                return httpx.Response(200, json={"ok": True, "result": True})
            return httpx.Response(200, json={"messaging_product": "whatsapp", "messages": [{"id": "wamid.out"}]})
        raise AssertionError(f"unexpected request to {request.url.host}")

    def _rasa(self, request: httpx.Request) -> httpx.Response:
        if self.rasa_down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.method == "GET":
            return httpx.Response(200 if self.rasa_alive else 503, text="Hello from Rasa")
        body = json.loads(request.content)
        if self.rasa_reply is not None:
            return self.rasa_reply(body)
        messages = self.rasa_messages or [{"text": "Hallo!", "locale": body["metadata"]["locale"]}]
        return httpx.Response(200, json=[{"recipient_id": body["sender"], "custom": m} for m in messages])

    @property
    def rasa(self) -> list[dict]:
        """What the API sent to Rasa's REST channel."""
        return [json.loads(r.content) for r in self.requests if r.url.host == "rasa.test" and r.method == "POST"]

    def calls(self, method: str) -> list[dict]:
        """Bodies of the Telegram Bot API calls of ``method``."""
        return [
            json.loads(r.content)
            for r in self.requests
            if r.url.host == TELEGRAM_HOST and r.url.path.endswith(f"/{method}")
        ]

    @property
    def sent(self) -> list[dict]:
        """The messages sent to users: Telegram sendMessage bodies and WhatsApp Cloud API message bodies."""
        graph = [json.loads(r.content) for r in self.requests if r.url.host == GRAPH_HOST]
        return self.calls("sendMessage") + graph


def pseudonym(channel: str, channel_id: str) -> str:
    """The sender id Rasa sees for ``channel_id`` under the tests' pseudonym key."""
    return Pseudonyms(SecretStr(PSEUDONYM_KEY)).sender(channel, channel_id)


# --- Zammad -------------------------------------------------------------------------------------------------

TOKEN, SECRET = "zammad-token-123", "webhook-secret-456"


class FakeZammad:
    """Zammad's REST API as its documentation describes it: token auth, JSON bodies, tickets and articles.
    Every request is checked; ``down`` refuses connections."""

    def __init__(self) -> None:
        self.tickets: dict[int, dict] = {}
        self.articles: list[dict] = []
        self.updates: list[tuple[int, dict]] = []
        self.down = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        assert request.headers["authorization"] == f"Token token={TOKEN}"
        assert request.headers["content-type"] == "application/json"
        body = json.loads(request.content)
        path = request.url.path
        if request.method == "POST" and path == "/api/v1/tickets":
            assert {"title", "group", "customer_id", "article"} <= body.keys()
            assert body["customer_id"].startswith("guess:") and body["customer_id"].endswith("@lotse.invalid")
            assert {"body", "type", "internal", "content_type"} <= body["article"].keys()
            ticket_id = len(self.tickets) + 1
            self.tickets[ticket_id] = body
            return httpx.Response(201, json={"id": ticket_id, "number": f"3100{ticket_id}", "title": body["title"]})
        if request.method == "POST" and path == "/api/v1/ticket_articles":
            assert body["ticket_id"] in self.tickets and isinstance(body["internal"], bool)
            self.articles.append(body)
            return httpx.Response(201, json={"id": 100 + len(self.articles), **body})
        if request.method == "PUT" and path.startswith("/api/v1/tickets/"):
            ticket_id = int(path.rsplit("/", 1)[1])
            assert ticket_id in self.tickets
            self.updates.append((ticket_id, body))
            return httpx.Response(200, json={"id": ticket_id, **body})
        raise AssertionError(f"not a Zammad API call: {request.method} {path}")


def signed_zammad(payload: dict, secret: str = SECRET, delivery: str = "d-1") -> tuple[bytes, dict]:
    """A webhook body as Zammad sends it, with ``X-Hub-Signature`` (HMAC-SHA1) and ``X-Zammad-Delivery``."""
    body = json.dumps(payload).encode()
    signature = "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return body, {"x-hub-signature": signature, "x-zammad-delivery": delivery, "content-type": "application/json"}


class PlatformServer:
    """A real HTTP server on a free loopback port for the end-to-end tests: Zammad's REST API (``FakeZammad``)
    under /api/v1, and everything else recorded as a Telegram or WhatsApp call answered with success."""

    def __init__(self) -> None:
        self.zammad = FakeZammad()
        self.messenger_calls: list[tuple[str, dict]] = []
        self.errors: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self._answer()

            def do_PUT(self) -> None:  # noqa: N802
                self._answer()

            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                url = f"http://{self.headers['host']}{self.path}"
                request = httpx.Request(self.command, url, headers=dict(self.headers.items()), content=body)
                try:
                    response = fake.handle(request)
                except AssertionError as exc:  # a call Zammad's documentation does not allow
                    fake.errors.append(str(exc))
                    response = httpx.Response(422, json={"error": str(exc)})
                content = response.content
                self.send_response(response.status_code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/api/v1/"):
            return self.zammad.handler(request)
        self.messenger_calls.append((request.url.path, json.loads(request.content or b"{}")))
        if "/bot" in request.url.path:
            return httpx.Response(200, json={"ok": True, "result": True})
        return httpx.Response(200, json={"messaging_product": "whatsapp", "messages": [{"id": "wamid.out"}]})

    def __enter__(self) -> PlatformServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def api_settings(data_dir: Path, **overrides: Any) -> Settings:
    """The API's settings for a test: Rasa at ``RASA_URL``, no retries or polling, data in ``data_dir``."""
    values: dict[str, Any] = dict(
        rasa_url=RASA_URL,
        rasa_retries=0,
        index_watch_seconds=0,
        log_json=False,
        data_dir=data_dir,
        pseudonym_key=PSEUDONYM_KEY,
    )
    return Settings(**(values | overrides))


# --- custom actions (as RasaHQ/rasa-demo tests them) ----------------------------------------------------------


def tracker(
    text: str = "",
    *,
    slots: Mapping[str, Any] | None = None,
    intent: str = "ask_question",
    entities: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    requested_slot: str | None = None,
    asked_before: str | None = None,
    seconds_between: float = 60.0,
) -> Tracker:
    """A tracker whose latest message is ``text``, with the API's metadata (German, demo tenant, web).
    ``asked_before``: a question the same person typed ``seconds_between`` earlier, answered by the bot."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0},
        "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()],
        "metadata": {"locale": "de", "locale_source": "explicit", "tenant": "demo", "channel": "web"}
        | dict(metadata or {}),
    }
    return Tracker.from_dict(
        {
            "sender_id": "test",
            "slots": {"requested_slot": requested_slot, **({"last_question": asked_before} if asked_before else {})}
            | dict(slots or {}),
            "latest_message": latest,
            "events": [
                {"event": "user", "text": asked_before, "timestamp": 1_000.0, "metadata": latest["metadata"]},
                {"event": "bot", "text": "…", "timestamp": 1_000.5},
                {"event": "user", "text": text, "timestamp": 1_000.0 + seconds_between, "metadata": latest["metadata"]},
            ]
            if asked_before
            else [],
        }
    )


def run_action(action: Action, tracked: Tracker, domain: dict | None = None) -> tuple[list[dict], list[dict]]:
    """Run one action as the executor would: (the bot messages it sent, the events it returned)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracked, domain or {}))
    return [m["custom"] for m in dispatcher.messages], [dict(e) for e in events]


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Messenger replies are sent in the background: poll for them instead of sleeping a fixed time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("background work did not finish in time")
        time.sleep(0.005)
