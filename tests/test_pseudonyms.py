"""Sender ids are pseudonyms: Rasa, the tracker store, the shared state and the rate limiter never see a phone
number, chat id or session id; the real id is used only to deliver the reply."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import subprocess
import sys

import pytest
from pydantic import SecretStr

from api.pseudonyms import MissingPseudonymKey, Pseudonyms
from tests.fakes import PSEUDONYM_KEY, Upstreams, wait_until
from tests.stack import ROOT

WA_ID = "4915112345678"
TELEGRAM_CHAT = 987654321


def test_pseudonyms_are_stable_keyed_and_per_channel() -> None:
    one, other = Pseudonyms(SecretStr("k" * 32)), Pseudonyms(SecretStr("j" * 32))
    assert one.sender("wa", WA_ID) == one.sender("wa", WA_ID)
    assert re.fullmatch(r"wa:[0-9a-f]{32}", one.sender("wa", WA_ID))
    assert one.sender("wa", WA_ID) != other.sender("wa", WA_ID)  # another deployment, another pseudonym
    assert one.sender("wa", "42") != one.sender("tg", "42")


@pytest.mark.parametrize("key", [None, "", "short-key"])
def test_a_missing_or_short_key_is_refused(key) -> None:
    with pytest.raises(MissingPseudonymKey, match="LOTSE_PSEUDONYM_KEY"):
        Pseudonyms(SecretStr(key) if key is not None else None)


def test_the_api_does_not_start_without_a_key(tmp_path) -> None:
    """A clear message on the console, not a traceback deep in a request."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "LOTSE_DATA_DIR": str(tmp_path), "LOTSE_PORT": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "api"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "LOTSE_PSEUDONYM_KEY must be a random secret of at least 32 characters" in done.stderr + done.stdout


def test_no_real_id_reaches_rasa_the_shared_state_or_the_limiter(app_clients, knowledge, upstreams: Upstreams):
    whatsapp = dict(
        whatsapp_access_token="token",
        whatsapp_app_secret="app-secret",
        whatsapp_verify_token="verify",
        whatsapp_phone_number_id="1234",
    )
    telegram = dict(telegram_bot_token="123:ABC", telegram_secret_token="tg-secret")
    client = app_clients(knowledge, **whatsapp, **telegram)
    state = client.app.state.lotse
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"phone_number_id": "1234"},
                                "contacts": [{"wa_id": WA_ID}],
                                "messages": [
                                    {
                                        "from": WA_ID,
                                        "id": "wamid.1",
                                        "timestamp": "0",
                                        "type": "text",
                                        "text": {"body": "Hallo"},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()
    signature = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    client.post(
        "/webhooks/whatsapp",
        content=body,
        headers={"x-hub-signature-256": signature, "content-type": "application/json"},
    )
    wait_until(lambda: len(upstreams.sent) == 1)
    tg_message = {"message_id": 1, "date": 0, "text": "Hallo", "chat": {"id": TELEGRAM_CHAT, "type": "private"}}
    tg_message["from"] = {"id": TELEGRAM_CHAT, "is_bot": False, "first_name": "A"}
    telegram_update = client.post(
        "/webhooks/telegram",
        json={"update_id": 7, "message": tg_message},
        headers={"X-Telegram-Bot-Api-Secret-Token": "tg-secret"},
    )
    assert telegram_update.status_code == 200
    chat = client.post("/api/v1/chat", json={"session_id": "my-session-id", "message": "Hallo"})
    assert chat.status_code == 200
    wait_until(lambda: len(upstreams.sent) == 2)
    delivered = {str(m.get("to") or m.get("chat_id")) for m in upstreams.sent}
    assert delivered == {WA_ID, str(TELEGRAM_CHAT)}  # the replies still reach the people
    real_ids = (WA_ID, str(TELEGRAM_CHAT), "my-session-id")
    rasa_senders = [m["sender"] for m in upstreams.rasa]
    assert len(rasa_senders) == 3 and not any(real in s for s in rasa_senders for real in real_ids)
    assert {s.split(":")[0] for s in rasa_senders} == {"wa", "tg", "web"}
    limiter_keys = " ".join(state.shared.limits_storage.storage)
    shared_keys = " ".join(state.shared._items)
    for stored in (limiter_keys, shared_keys):
        assert not any(real in stored for real in real_ids)
    assert any(s in limiter_keys for s in rasa_senders)  # the limiter counts per pseudonym
    assert PSEUDONYM_KEY not in limiter_keys
