"""Resident memory of each process after some traffic, for the Kubernetes memory requests (deploy/k8s).

    python -m bench.replica_memory

Starts the whole product (tests/stack.py), sends 40 chat turns and 40 searches in several languages, then
prints each process's resident memory (the process and its children, from ps).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import httpx

from tests.stack import start_stack

QUESTIONS = [
    "Wie melde ich meine Wohnung an?",
    "How do I apply for a Kita place?",
    "Как получить разрешение на работу?",
    "Hallo",
    "كيف أسجل عنوان سكني الجديد؟",
]


def resident_mib(pid: int) -> float:
    out = subprocess.run(["ps", "-o", "rss=", "--ppid", str(pid), "-p", str(pid)], capture_output=True, text=True)
    return sum(int(kib) for kib in out.stdout.split()) / 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stack = start_stack(Path(tmp))
        try:
            for i in range(40):
                question = QUESTIONS[i % len(QUESTIONS)]
                body = {"session_id": f"s{i % 7}", "message": question}
                httpx.post(f"{stack.api_url}/api/v1/chat", json=body, timeout=60)
                httpx.get(f"{stack.api_url}/api/v1/search", params={"q": question}, timeout=60)
            for name, process in stack.processes.items():
                print(f"{name}: {resident_mib(process.pid):.0f} MiB")
        finally:
            stack.stop_all()


if __name__ == "__main__":
    main()
