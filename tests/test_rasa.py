"""The Rasa project itself: data validation, test stories in all nine locales, intent accuracy per locale.

Runs Rasa from its own environment (.venv-rasa, Python 3.10) on the model `make test` trained.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from tests.stack import RASA_BIN, RASA_MODEL, ROOT

pytestmark = pytest.mark.e2e
BOT = ROOT / "bot"
MIN_INTENT_ACCURACY = 0.85  # per locale, on held-out messages (docs/benchmarks.md has the current numbers)
MIN_OVERALL_ACCURACY = 0.92


def _rasa_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "HF_HUB_OFFLINE": "1", **extra}


def test_rasa_data_validate():
    result = subprocess.run(
        [str(RASA_BIN), "data", "validate", "--quiet"],
        cwd=BOT,
        env=_rasa_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_stories_in_all_locales(stack, tmp_path):
    env = _rasa_env(LOTSE_ACTIONS_URL=stack.actions_url, LOTSE_TRACKER_DB=str(tmp_path / "tracker.sqlite3"))
    result = subprocess.run(
        [
            str(RASA_BIN),
            "test",
            "core",
            "--model",
            str(RASA_MODEL),
            "--stories",
            "tests/test_stories.yml",
            "--endpoints",
            "endpoints.yml",
            "--out",
            str(tmp_path / "results"),
            "--fail-on-prediction-errors",
        ],
        cwd=BOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    report = json.loads((tmp_path / "results" / "story_report.json").read_text())
    assert report["conversation_accuracy"]["accuracy"] == 1.0


def test_intent_accuracy_per_locale():
    result = subprocess.run(
        [str(ROOT / ".venv-rasa" / "bin" / "python"), "-m", "bench.nlu_eval", "--json"],
        cwd=ROOT,
        env=_rasa_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    scores = json.loads(result.stdout.strip().splitlines()[-1])
    assert scores["all"] >= MIN_OVERALL_ACCURACY, scores
    low = {locale: acc for locale, acc in scores.items() if acc < MIN_INTENT_ACCURACY}
    assert not low, f"intent accuracy below {MIN_INTENT_ACCURACY}: {low}"
    assert set(scores) >= {"de", "en", "ar", "uk", "ru", "tr", "fa", "ro", "bg"}
    assert all(re.fullmatch(r"[a-z]{2}|all", k) for k in scores)
