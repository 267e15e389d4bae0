"""What must agree across files that nothing else checks: bot/domain.yml and the action server (responses
and actions), the entry ids written into bot code and knowledge/catalogue.yaml, and the import floors
(api -> bot -> knowledge -> locales)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml
from rasa_sdk.executor import ActionExecutor

import bot
from bot.replies import CHECK_FOR_TOPIC
from bot.responses import RESPONSES
from knowledge.loader import load_catalogue
from knowledge.models import ENTRY_ID

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
CATALOGUE = load_catalogue(ROOT / "knowledge" / "catalogue.yaml")
PACKAGES = ("api", "bot", "knowledge", "locales")


def python_files(package: str) -> list[Path]:
    return [p for p in (ROOT / package).rglob("*.py") if "components" not in p.parts]


def test_domain_responses_are_the_ones_the_nlg_endpoint_renders():
    in_domain = {a for a in DOMAIN["actions"] if a.startswith("utter_")}
    assert in_domain == set(RESPONSES)


def test_every_form_question_has_a_response():
    for form in DOMAIN["forms"].values():
        for slot in form["required_slots"]:
            assert f"utter_ask_{slot}" in RESPONSES


def test_domain_actions_are_the_ones_the_action_server_runs():
    executor = ActionExecutor()
    executor.register_package("bot.actions")
    custom = {a for a in DOMAIN["actions"] if not a.startswith("utter_")}
    assert custom == set(executor.actions)


def _entry_ids_in_bot_code() -> dict[str, list[str]]:
    """Every string literal in bot/ that looks like an entry id of a catalogue category (``kita.costs``)."""
    families = {topic.split(".")[0] for topic in CATALOGUE.topics}
    found: dict[str, list[str]] = {}
    for path in python_files("bot"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            text = node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""
            if ENTRY_ID.match(text) and text.split(".")[0] in families:
                found.setdefault(text, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_entry_ids_in_bot_code_are_catalogue_topics():
    found = _entry_ids_in_bot_code()
    assert len(found) >= 10, "the scan found too few ids: has the code moved?"
    unknown = {entry_id: where for entry_id, where in found.items() if CATALOGUE.topic_of(entry_id) is None}
    assert not unknown, f"not in knowledge/catalogue.yaml: {unknown}"
    assert set(CHECK_FOR_TOPIC) <= set(CATALOGUE.topics)


def test_guided_checks_are_offered_for_every_topic_of_their_subject():
    """A new recognition or Kita topic should offer its check too: add it to CHECK_FOR_TOPIC."""
    for topic in CATALOGUE.topics:
        if topic.startswith(("recognition.", "kita.")):
            assert topic in CHECK_FOR_TOPIC, topic


# --- import floors -------------------------------------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            modules |= {f"{node.module}.{alias.name}" for alias in node.names}
    return modules


FORBIDDEN = {"api": (), "bot": ("api",), "knowledge": ("api", "bot"), "locales": ("api", "bot", "knowledge")}


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_only_go_down_the_floors(package):
    wrong = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in python_files(package)
        for module in _imports(path)
        if module.split(".")[0] in FORBIDDEN[package]
    }
    assert not wrong


def test_the_api_uses_only_the_bots_public_modules():
    public = {f"bot.{name}" for name in bot.__all__}
    used = {m for path in python_files("api") for m in _imports(path) if re.match(r"bot\.\w+$", m)}
    assert used and used <= public, used - public
