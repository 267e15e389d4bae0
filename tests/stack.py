"""Start the real product for end-to-end tests: Rasa server, action server and API on free loopback ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_MODEL = ROOT / "bot" / "models" / "lotse.tar.gz"
ACTIONS_TOKEN = "stack-actions-token-0123456789abcdef"  # shared by Rasa and the action server of a test stack


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    api_url: str
    rasa_url: str
    actions_url: str
    workdir: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    commands: dict[str, tuple[list[str], dict[str, str], Path]] = field(default_factory=dict)

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def restart(self, name: str, timeout: float = 240.0) -> None:
        """Stop one process and start it again with the same command; wait until the API is ready."""
        self.stop(name)
        start_process(self, name, *self.commands[name])
        wait_until_ready(self, "ready", timeout)

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def _environment(workdir: Path, api_port: int, rasa_port: int, actions_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "RASA_TELEMETRY_ENABLED": "false",
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),  # as in supervisord.conf unless set
            "LOTSE_PORT": str(api_port),
            "LOTSE_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
            "LOTSE_RASA_PORT": str(rasa_port),
            "LOTSE_RASA_URL": f"http://127.0.0.1:{rasa_port}",
            "LOTSE_ACTIONS_PORT": str(actions_port),
            "LOTSE_ACTIONS_URL": f"http://127.0.0.1:{actions_port}",
            "LOTSE_TRACKER_DB": str(workdir / "tracker.sqlite3"),
            "LOTSE_DATA_DIR": str(workdir / "data"),
            "LOTSE_LOG_JSON": "false",
            "LOTSE_RATE_LIMIT_IP": os.environ.get("LOTSE_RATE_LIMIT_IP", "1000/minute"),
            "LOTSE_RATE_LIMIT_SESSION": "200/minute",
            "LOTSE_PSEUDONYM_KEY": os.environ.get("LOTSE_PSEUDONYM_KEY", "stack-pseudonym-key-0123456789abcdef"),
            "LOTSE_ACTIONS_TOKEN": ACTIONS_TOKEN,
        }
    )
    return env


def start_process(stack: Stack, name: str, command: list[str], env: dict[str, str], cwd: Path) -> None:
    stack.commands[name] = (command, env, cwd)
    log = open(stack.workdir / f"{name}.log", "wb")  # noqa: SIM115 - the child process keeps writing to it
    stack.processes[name] = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def start_stack(
    workdir: Path,
    with_rasa: bool = True,
    timeout: float = 240.0,
    endpoints: str = "endpoints.yml",
    environment: dict[str, str] | None = None,
) -> Stack:
    """Start the three processes and wait until the API reports ready (or degraded without Rasa). ``endpoints``
    is Rasa's endpoints file in bot/; ``environment`` adds to or overrides the processes' environment."""
    if with_rasa and not RASA_MODEL.exists():
        raise RuntimeError(f"no Rasa model at {RASA_MODEL}: run `make test` (it trains the model)")
    api_port, rasa_port, actions_port = free_port(), free_port(), free_port()
    env = _environment(workdir, api_port, rasa_port, actions_port) | (environment or {})
    stack = Stack(
        f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{actions_port}", workdir
    )
    start_process(stack, "actions", [sys.executable, "-m", "bot.server"], env, ROOT)
    start_process(stack, "api", [sys.executable, "-m", "api"], env, ROOT)
    if with_rasa:
        start_process(
            stack,
            "rasa",
            [
                str(RASA_BIN),
                "run",
                "--model",
                "models",
                "--endpoints",
                endpoints,
                "--credentials",
                "credentials.yml",
                "--interface",
                "127.0.0.1",
                "--port",
                str(rasa_port),
                "--quiet",
            ],
            env,
            ROOT / "bot",
        )
    wait_until_ready(stack, "ready" if with_rasa else "degraded", timeout)
    return stack


def wait_until_ready(stack: Stack, wanted: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        for name, process in stack.processes.items():
            if process.poll() is not None:
                stack.stop_all()
                raise RuntimeError(f"{name} exited early:\n{stack.log(name)}")
        try:
            last = httpx.get(f"{stack.api_url}/readyz", timeout=5).json().get("status", "")
            if last == wanted:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1.0)
    stack.stop_all()
    raise RuntimeError(f"stack not {wanted} after {timeout}s (last status {last!r}):\n{stack.log('rasa')}")


@contextmanager
def serve(app, settings) -> Iterator[str]:
    """Serve ``app`` over real HTTP on a free loopback port, configured as ``python -m api`` configures uvicorn
    (api.main.server_config); yields the base URL and stops the server afterwards."""
    import uvicorn

    from api.main import server_config

    port = free_port()
    server = uvicorn.Server(server_config(app, settings.model_copy(update={"host": "127.0.0.1", "port": port})))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
