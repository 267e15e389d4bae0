"""Pseudonymous sender ids: what Rasa, the tracker store, the shared state and the rate limiter see instead
of a phone number, a Telegram chat id or a widget session id.

A keyed HMAC-SHA256 of the channel and the channel's own id: stable (a conversation continues across
messages, replicas and restarts), not reversible without the key, and different for every deployment. The
real id stays only in the message being answered, where the reply must go.
"""

from __future__ import annotations

import hashlib
import hmac

from pydantic import SecretStr

MIN_KEY_CHARS = 32
GENERATE_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


class MissingPseudonymKey(RuntimeError):
    """The deployment has no (or too short a) LOTSE_PSEUDONYM_KEY."""


class Pseudonyms:
    def __init__(self, key: SecretStr | None) -> None:
        secret = key.get_secret_value() if key else ""
        if len(secret) < MIN_KEY_CHARS:
            raise MissingPseudonymKey(
                f"LOTSE_PSEUDONYM_KEY must be a random secret of at least {MIN_KEY_CHARS} characters "
                f"(generate one with: {GENERATE_HINT}). Keep it: a new key starts every conversation anew."
            )
        self._key = secret.encode()

    def sender(self, channel: str, channel_id: str) -> str:
        """``tg:<32 hex digits>`` for Telegram chat ``channel_id``; the channel stays readable for operators."""
        digest = hmac.new(self._key, f"{channel}\x00{channel_id}".encode(), hashlib.sha256).hexdigest()
        return f"{channel}:{digest[:32]}"
