"""Faults under load, with the real processes as `make run` starts them (supervisord.conf): Rasa and the action
server hang (SIGSTOP) and are killed while web users and Telegram users keep writing. No request may get a 5xx,
every web turn gets an answer, every Telegram message gets its reply, and the supervisor starts the killed
processes again. A process that cannot start at all is reported as a crash loop."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.stack import RASA_MODEL, ROOT, _environment, free_port

TOKEN = "123456:FAULT-token"
SECRET = "fault-secret-token"
QUESTIONS = ["Wie melde ich meine Wohnung an?", "Hallo", "was kostet die kita", "how do i find a german course"]


class FakeTelegram(ThreadingHTTPServer):
    """The Bot API on loopback: records the chat ids that messages were sent to."""

    def __init__(self) -> None:
        self.chats: set[int] = set()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["content-length"])) or b"{}")
                if self.path.endswith("/sendMessage"):
                    server.chats.add(int(body["chat_id"]))
                answer = json.dumps({"ok": True, "result": True}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def children(pid: int) -> dict[str, int]:
    """The supervisor's programs by name: rasa, actions, api."""
    found = {}
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        name = "rasa" if " run " in command else ("actions" if "bot.server" in command else "api")
        found[name] = int(child)
    return found


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"not {what} after {timeout} s")


@contextlib.contextmanager
def supervisord(workdir: Path, env: dict[str, str]):
    """supervisord as `make run` starts it, logging to ``workdir/supervisord.log``; stopped (and, if it will not
    stop, killed with its programs) on the way out."""
    with open(workdir / "supervisord.log", "wb") as log:
        supervisor = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "supervisord"), "-c", str(ROOT / "supervisord.conf")],
            env=env | {"LOTSE_RUN_DIR": str(workdir)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield supervisor
        finally:
            supervisor.terminate()
            try:
                supervisor.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(supervisor.pid, signal.SIGKILL)


@pytest.fixture
def supervised(tmp_path):
    if not RASA_MODEL.exists():
        pytest.fail(f"no Rasa model at {RASA_MODEL}: run `make test` (it trains the model)")
    telegram = FakeTelegram()
    api_port, rasa_port, actions_port = free_port(), free_port(), free_port()
    env = _environment(tmp_path, api_port, rasa_port, actions_port) | {
        "LOTSE_RASA_TIMEOUT_SECONDS": "3",
        "LOTSE_RASA_BREAKER_SECONDS": "5",
        "LOTSE_TELEGRAM_BOT_TOKEN": TOKEN,
        "LOTSE_TELEGRAM_SECRET_TOKEN": SECRET,
        "LOTSE_TELEGRAM_API_URL": f"http://127.0.0.1:{telegram.server_address[1]}",
        "LOTSE_MESSENGER_BACKOFF_SECONDS": "0.2",
        # The users write without pause (answers come at once while the breaker is open): no limit applies here.
        "LOTSE_RATE_LIMIT_SESSION": "100000/minute",
        "LOTSE_RATE_LIMIT_IP": "100000/minute",
    }
    api = f"http://127.0.0.1:{api_port}"
    started: set[int] = set()
    try:
        with supervisord(tmp_path, env) as supervisor:
            try:
                wait_for(lambda: httpx.get(f"{api}/readyz", timeout=5).json()["status"] == "ready", 300, "ready")
                yield api, supervisor, telegram, tmp_path / "supervisord.log", started
            finally:
                running = set(children(supervisor.pid).values()) if supervisor.poll() is None else set()
                for pid in started | running:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGCONT)  # a stopped process cannot stop
    finally:
        telegram.shutdown()


@pytest.mark.e2e
def test_hangs_and_crashes_under_load_lose_no_message(supervised):
    api, supervisor, telegram, supervisor_log, touched = supervised
    stop = threading.Event()
    web: list[tuple[int, int, bool]] = []  # (status, number of messages, degraded)
    webhooks: list[int] = []
    updates: list[int] = []

    def web_user(n: int) -> None:
        with httpx.Client(base_url=api, timeout=30) as client:
            i = 0
            while not stop.is_set():
                body = {"session_id": f"fault-{n}", "message": QUESTIONS[i % len(QUESTIONS)], "locale": "de"}
                response = client.post("/api/v1/chat", json=body)
                data = response.json() if response.status_code == 200 else {"messages": [], "degraded": False}
                web.append((response.status_code, len(data["messages"]), data["degraded"]))
                i += 1

    def telegram_user() -> None:
        with httpx.Client(base_url=api, timeout=30) as client:
            update_id = 1
            while not stop.is_set():
                message = {"message_id": 1, "date": 0, "text": QUESTIONS[update_id % len(QUESTIONS)]}
                message |= {"from": {"id": update_id, "is_bot": False, "first_name": "A", "language_code": "de"}}
                message |= {"chat": {"id": update_id, "type": "private"}}
                response = client.post(
                    "/webhooks/telegram",
                    json={"update_id": update_id, "message": message},
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                )
                webhooks.append(response.status_code)
                updates.append(update_id)
                update_id += 1
                time.sleep(0.5)

    users = [threading.Thread(target=web_user, args=(n,)) for n in range(3)]
    users.append(threading.Thread(target=telegram_user))
    for user in users:
        user.start()
    try:
        pids = children(supervisor.pid)
        touched.update(pids.values())
        time.sleep(3)
        os.kill(pids["rasa"], signal.SIGSTOP)  # Rasa hangs: turns time out, then the breaker answers at once
        time.sleep(12)
        os.kill(pids["rasa"], signal.SIGCONT)
        time.sleep(3)
        os.kill(pids["actions"], signal.SIGSTOP)  # the action server hangs: Rasa waits for it
        time.sleep(10)
        os.kill(pids["actions"], signal.SIGCONT)
        time.sleep(3)
        os.kill(pids["rasa"], signal.SIGKILL)  # Rasa crashes: supervisord starts it again
        time.sleep(10)
        os.kill(children(supervisor.pid)["actions"], signal.SIGKILL)  # the action server crashes too
        time.sleep(10)
    finally:
        stop.set()
        for user in users:
            user.join(timeout=60)

    assert web and all(status == 200 for status, _, _ in web), sorted({s for s, _, _ in web})
    assert all(count > 0 for _, count, _ in web)
    assert any(degraded for _, _, degraded in web) and not all(degraded for _, _, degraded in web)
    assert webhooks and set(webhooks) == {200}
    wait_for(lambda: set(updates) <= telegram.chats, 90, "every Telegram message answered")
    assert "exited: rasa (terminated by SIGKILL; not expected)" in supervisor_log.read_text()
    wait_for(lambda: children(supervisor.pid).get("rasa") not in (None, pids["rasa"]), 10, "Rasa restarted")
    assert "exited: actions (terminated by SIGKILL; not expected)" in supervisor_log.read_text()
    wait_for(lambda: children(supervisor.pid).get("actions") not in (None, pids["actions"]), 10, "actions restarted")


@pytest.mark.e2e
def test_a_crash_loop_is_reported_and_the_others_keep_serving(tmp_path):
    """A process that cannot start (here: the action server with an invalid port) is retried a few times, then
    supervisord says so in its log; the API keeps answering meanwhile."""
    api_port, rasa_port, actions_port = free_port(), free_port(), free_port()
    env = _environment(tmp_path, api_port, rasa_port, actions_port) | {
        "LOTSE_ACTIONS_PORT": "not-a-port",  # the action server exits at once with a configuration error
    }
    log = tmp_path / "supervisord.log"
    with supervisord(tmp_path, env):
        wait_for(lambda: "gave up: actions entered FATAL state" in log.read_text(), 120, "the crash loop reported")
        assert "invalid configuration" in log.read_text()
        wait_for(lambda: httpx.get(f"http://127.0.0.1:{api_port}/healthz", timeout=5).status_code == 200, 120, "up")
