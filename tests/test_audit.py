"""The offline dependency audit: pip-audit itself over both lock files, against the committed advisory snapshot."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("audit", ROOT / "scripts" / "audit.py")
audit = importlib.util.module_from_spec(_spec)
sys.modules["audit"] = audit
_spec.loader.exec_module(audit)


def test_both_lock_files_have_no_unaccepted_finding_in_the_snapshot(capfd: pytest.CaptureFixture[str]) -> None:
    result = audit.audit()
    printed = capfd.readouterr()
    assert result == 0, printed.out
    assert (printed.out + printed.err).count("No known vulnerabilities found") == len(audit.LOCK_GROUPS)


def test_a_pin_with_a_known_vulnerability_fails_the_audit(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    lock = tmp_path / "old.txt"
    lock.write_text("requests==2.19.0\n")
    assert audit.audit(((str(lock),),)) == 1
    assert "PYSEC-2018-28" in capfd.readouterr().out  # Authorization header sent over http after a redirect


def test_a_package_the_snapshot_never_looked_at_fails_instead_of_passing(tmp_path: Path) -> None:
    lock = tmp_path / "new.txt"
    lock.write_text("requests==2.34.2\nlotse-unknown-package==1.0\n")
    assert audit.audit(((str(lock),),)) == 2


def test_accepted_findings_name_advisories_of_the_snapshot() -> None:
    known = {a["id"] for advisories in audit.load_snapshot()["advisories"].values() for a in advisories}
    assert set(audit.accepted()) <= known


@pytest.mark.parametrize(
    ("events", "version", "affected"),
    [
        ([{"introduced": "0"}, {"fixed": "2.20.0"}], "2.19.0", True),
        ([{"introduced": "0"}, {"fixed": "2.20.0"}], "2.20.0", False),
        ([{"introduced": "1.10"}, {"fixed": "1.12"}], "1.9", False),  # versions compare as versions, not text
        ([{"introduced": "1.10"}, {"fixed": "1.12"}], "1.11.3", True),
        ([{"introduced": "0"}, {"last_affected": "3.8.1"}], "3.8.1", True),
        ([{"introduced": "0"}, {"last_affected": "3.8.1"}], "3.8.2", False),
        ([{"introduced": "1.0"}, {"fixed": "1.5"}, {"introduced": "2.0"}, {"fixed": "2.3"}], "1.7", False),
        ([{"introduced": "1.0"}, {"fixed": "1.5"}, {"introduced": "2.0"}, {"fixed": "2.3"}], "2.1", True),
        # in the database's own order (urllib3, PYSEC-2023-192): later branch first
        ([{"introduced": "2.0.0"}, {"fixed": "2.0.6"}, {"introduced": "0"}, {"fixed": "1.26.17"}], "2.0.3", True),
        ([{"introduced": "2.0.0"}, {"fixed": "2.0.6"}, {"introduced": "0"}, {"fixed": "1.26.17"}], "1.26.16", True),
        ([{"introduced": "2.0.0"}, {"fixed": "2.0.6"}, {"introduced": "0"}, {"fixed": "1.26.17"}], "1.26.17", False),
        ([{"introduced": "0"}, {"limit": "3.0"}], "3.1", False),
        ([{"introduced": "0"}], "0.1a1", True),  # "0" comes before every version, pre-releases too
    ],
)
def test_ranges_follow_osv(events: list[dict[str, str]], version: str, affected: bool) -> None:
    assert audit.affects({"ranges": [{"type": "ECOSYSTEM", "events": events}]}, version) is affected


def test_an_explicit_version_list_counts_without_ranges() -> None:
    assert audit.affects({"versions": ["0.9"]}, "0.9")
    assert not audit.affects({"versions": ["0.9"]}, "0.10")


def test_any_of_several_ranges_counts() -> None:
    fixed_twice = {"ranges": [{"events": [{"introduced": "0"}, {"fixed": "1.0"}]}, {"events": [{"introduced": "2.0"}]}]}
    assert audit.affects(fixed_twice, "2.5") and audit.affects(fixed_twice, "0.5")
    assert not audit.affects(fixed_twice, "1.5")
