"""Known vulnerabilities in both lock files, with pip-audit, online or offline.

    python scripts/audit.py online                                # PyPI's advisory service (`make audit`)
    python scripts/audit.py offline                               # the snapshot, no network (`make test`)
    python scripts/audit.py snapshot ADVISORY_DATABASE_CHECKOUT   # refresh requirements/advisories.json.gz

Offline, a dated snapshot of the PyPA advisory database is served on loopback in the shape of OSV's query API
(``pip-audit -s osv --osv-url``), so that pip-audit itself does the audit. The snapshot is only as new as its
``taken`` date. Accepted findings, each with its reason, are in requirements/accepted-advisories.yaml.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "requirements" / "advisories.json.gz"
ACCEPTED = ROOT / "requirements" / "accepted-advisories.yaml"
LOCK_GROUPS = (("requirements/app.txt", "requirements/dev.txt"), ("requirements/rasa.txt",))


def pinned(lock_files: list[Path]) -> dict[str, str]:
    """Canonical name -> pinned version of every ``name==version`` line."""
    pins = {}
    for path in lock_files:
        for line in path.read_text().splitlines():
            line = line.split("#")[0].strip()
            if "==" in line and not line.startswith("-"):
                requirement = Requirement(line)
                pins[canonicalize_name(requirement.name)] = str(requirement.specifier).removeprefix("==")
    return pins


def _slim(advisory: dict[str, Any], name: str) -> dict[str, Any]:
    """What pip-audit reads of an OSV entry, for one package: ids, a one-line description, versions affected."""
    affected = []
    for item in advisory.get("affected", []):
        if canonicalize_name(item["package"]["name"]) != name:
            continue
        ranges = [r for r in item.get("ranges", []) if r["type"] == "ECOSYSTEM"]
        package = {"name": name, "ecosystem": "PyPI"}
        affected.append({"package": package, "ranges": ranges, "versions": item.get("versions", [])})
    text = advisory.get("summary") or advisory.get("details") or ""
    slim = {
        "id": advisory["id"],
        "aliases": advisory.get("aliases", []),
        "summary": " ".join(text.split())[:300],
        "published": advisory.get("published"),
        "affected": affected,
    }
    if advisory.get("withdrawn"):
        slim["withdrawn"] = advisory["withdrawn"]
    return slim


def take_snapshot(checkout: Path) -> None:
    """Every advisory of every package named in the lock files (not only the pinned versions': a raised pin is
    checked too), from a checkout of github.com/pypa/advisory-database."""
    names = sorted(pinned([ROOT / f for group in LOCK_GROUPS for f in group]))
    taken = subprocess.run(
        ["git", "-C", str(checkout), "log", "-1", "--format=%cs %H"], capture_output=True, text=True, check=True
    ).stdout.split()
    folders = {canonicalize_name(folder.name): folder for folder in (checkout / "vulns").iterdir()}
    advisories = {}
    for name in names:
        files = sorted(folders[name].glob("*.yaml")) if name in folders else []
        # BaseLoader reads every scalar as text: a version such as 1.10 must not become the number 1.1.
        advisories[name] = [_slim(yaml.load(f.read_text(), Loader=yaml.BaseLoader), name) for f in files]
    snapshot = {"source": "https://github.com/pypa/advisory-database", "taken": taken[0], "commit": taken[1]}
    snapshot["advisories"] = advisories
    SNAPSHOT.write_bytes(gzip.compress(json.dumps(snapshot, sort_keys=True).encode(), mtime=0))
    found = sum(map(len, advisories.values()))
    print(f"{SNAPSHOT.relative_to(ROOT)}: {found} advisories of {len(names)} packages, as of {taken[0]}")


def affects(affected: dict[str, Any], version: str) -> bool:
    """OSV's rule for one package: a version of the explicit list, or one inside an ECOSYSTEM range."""
    if version in affected.get("versions", []):
        return True
    try:
        wanted = Version(version)
        return any(_in_range(span["events"], wanted) for span in affected.get("ranges", []))
    except InvalidVersion:  # not PEP 440: only the explicit list can name it
        return False


def _in_range(events: list[dict[str, str]], wanted: Version) -> bool:
    """Walk the events in version order (a database may list them in any order); "0" is before every version."""
    steps = sorted(
        ((kind, None if at == "0" else Version(at)) for event in events for kind, at in event.items()),
        key=lambda step: (step[1] is not None, step[1] or Version("0")),
    )
    inside = False
    for kind, at in steps:
        if kind == "introduced" and (at is None or wanted >= at):
            inside = True
        elif (kind in ("fixed", "limit") and wanted >= at) or (kind == "last_affected" and wanted > at):
            inside = False
    return inside


def query(snapshot: dict[str, Any], name: str, version: str) -> list[dict[str, Any]]:
    """The advisories that affect ``name==version``, as OSV's /v1/query answers."""
    return [
        advisory
        for advisory in snapshot["advisories"].get(canonicalize_name(name), [])
        if any(affects(item, version) for item in advisory["affected"])
    ]


def serve(snapshot: dict[str, Any]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            name = asked["package"]["name"]
            if canonicalize_name(name) not in snapshot["advisories"]:
                # A package the snapshot never looked at must not pass as "no known vulnerabilities".
                self.send_error(404, f"{name} is not in the snapshot: run the snapshot step")
                return
            body = json.dumps({"vulns": query(snapshot, name, asked["version"])}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def accepted() -> list[str]:
    return [item["id"] for item in yaml.safe_load(ACCEPTED.read_text()) or []]


def load_snapshot() -> dict[str, Any]:
    return json.loads(gzip.decompress(SNAPSHOT.read_bytes()))


def audit(groups: tuple[tuple[str, ...], ...] = LOCK_GROUPS, offline: bool = True) -> int:
    """pip-audit over each group of lock files (one environment each); the worst exit code: 0 clean, 1 a finding
    or a failed lookup (pip-audit stops with an error), 2 a package the snapshot does not hold."""
    service = ["-s", "pypi"]
    server = None
    if offline:
        snapshot = load_snapshot()
        print(f"advisories as of {snapshot['taken']} ({snapshot['source']} at {snapshot['commit'][:12]})")
        unknown = sorted(set(pinned([ROOT / f for group in groups for f in group])) - set(snapshot["advisories"]))
        if unknown:
            print(f"not in the snapshot: {', '.join(unknown)}; refresh it: python scripts/audit.py snapshot DIR")
            return 2
        server = serve(snapshot)
        service = ["-s", "osv", "--osv-url", f"http://127.0.0.1:{server.server_port}/v1/query"]
    # --strict: a requirement that cannot be audited (not on PyPI, a URL) fails instead of passing unchecked.
    # Offline, a package missing from the snapshot is caught above; the server's 404 is a second guard.
    command = [sys.executable, "-m", "pip_audit", *service, "--no-deps", "--disable-pip", "--strict", "--desc", "on"]
    command += ["--progress-spinner", "off", *(arg for vuln in accepted() for arg in ("--ignore-vuln", vuln))]
    # The loopback server must be reached directly, whatever proxy the machine sets.
    environment = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"} if offline else None
    worst = 0
    try:
        for group in groups:
            files = [arg for f in group for arg in ("-r", str(ROOT / f))]
            worst = max(worst, subprocess.run(command + files, check=False, env=environment).returncode)
    finally:
        if server:
            server.shutdown()
            server.server_close()
    return worst


if __name__ == "__main__":
    if sys.argv[1:2] == ["snapshot"] and len(sys.argv) == 3:
        take_snapshot(Path(sys.argv[2]))
    elif sys.argv[1:] in (["online"], ["offline"]):
        sys.exit(audit(offline=sys.argv[1] == "offline"))
    else:
        sys.exit(__doc__)
