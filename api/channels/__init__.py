"""Messenger channels (Telegram, WhatsApp): one module per platform, shared delivery and formatting.

``formatting`` turns a bot message into channel text (pure), ``delivery`` runs one incoming message through
the conversation and sends the reply, ``telegram`` and ``whatsapp`` speak the platforms' APIs. The webhooks
themselves are in ``api/routes/webhooks.py``; the channels are created once, in the app's lifespan.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from api.channels import telegram, whatsapp
from api.channels.delivery import ButtonPayloads, Delivery, SeenOnce
from api.config import Settings
from api.shared import SharedState

__all__ = ["Messengers", "open_messengers"]


@dataclass
class Messengers:
    """The messenger channels of one app run and the delivery state they share."""

    delivery: Delivery
    telegram: telegram.TelegramChannel
    whatsapp: whatsapp.WhatsAppChannel


def open_messengers(settings: Settings, http: httpx.AsyncClient, shared: SharedState) -> Messengers:
    delivery = Delivery(
        shared=shared,
        seen=SeenOnce(shared, settings.messenger_dedupe_seconds),
        payloads=ButtonPayloads(shared, settings.button_payload_seconds),
        send_attempts=settings.messenger_send_attempts,
        backoff_seconds=settings.messenger_backoff_seconds,
    )
    return Messengers(
        delivery, telegram.channel_for(settings, http, delivery), whatsapp.channel_for(settings, http, delivery)
    )
