"""The Rasa project itself: data validation, test stories in all nine locales, intent accuracy per locale.

Runs Rasa from its own environment (.venv-rasa, Python 3.10) on the model `make test` trained.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from tests.stack import ACTIONS_TOKEN, RASA_BIN, RASA_MODEL, ROOT

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
    env = _rasa_env(
        LOTSE_ACTIONS_URL=stack.actions_url,
        LOTSE_ACTIONS_TOKEN=ACTIONS_TOKEN,
        LOTSE_TRACKER_DB=str(tmp_path / "tracker.sqlite3"),
    )
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


RESPONSE_CHECK = """
import jsonschema
from jsonschema.exceptions import SchemaError, ValidationError
import bot.components  # what loading the model imports: installs the schema cache
from bot.components import validate_once
from rasa.core.actions.action import RemoteAction

assert jsonschema.validate is validate_once.validate
action = RemoteAction("action_answer_question", None)
schema = action.action_response_format_spec()
good = {"events": [{"event": "slot", "name": "locale", "value": "de"}], "responses": [{"text": "Hallo"}]}
bad = [{"events": "none"}, {"events": [{"name": "no event key"}]}, {"events": [{"event": "no such event"}]}, []]
for _ in range(3):  # the second and third time come from the cache
    assert action._validate_action_result(good)
    for response in bad:
        try:
            action._validate_action_result(response)
        except ValidationError as error:
            expected = jsonschema.exceptions.best_match(
                jsonschema.validators.validator_for(schema)(schema).iter_errors(response)
            )
            assert error.message.startswith(expected.message), (error.message, expected.message)
            assert "Failed to validate Action server response" in error.message
        else:
            raise AssertionError(f"accepted {response}")
try:
    jsonschema.validate({}, {"type": "no such type"})
except SchemaError:
    pass
else:
    raise AssertionError("an invalid schema passed")
print("ok")
"""


def test_action_responses_are_still_validated_with_the_schema_checked_once():
    result = subprocess.run(
        [str(ROOT / ".venv-rasa" / "bin" / "python"), "-c", RESPONSE_CHECK],
        cwd=ROOT,
        env=_rasa_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-3000:]
