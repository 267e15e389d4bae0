"""Counsellor replies and closed tickets, delivered where the person is: the widget (kept in the shared
inbox and announced to every replica, read with server-sent events or by polling), Telegram, or WhatsApp.

WhatsApp accepts free-form messages only within 24 hours of the person's last message. Later, the tenant's
approved template invites the person back and the reply waits until they write; without a template the
counsellor gets an internal note that the reply was not delivered.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from api.channels.delivery import SendError
from api.handover.adapter import CounsellorEvent
from api.handover.flow import Handover
from api.handover.store import Record
from bot import texts
from bot.messages import BotMessage, bot_message
from knowledge.tenants import Tenant

if TYPE_CHECKING:
    from api.channels import Messengers

log = logging.getLogger(__name__)

WHATSAPP_WINDOW_SECONDS = 24 * 3600 - 60  # Meta's customer service window, with a minute to spare
NOTE_WINDOW_TEMPLATE = (
    "Lotse: Das 24-Stunden-Fenster von WhatsApp ist geschlossen. Die Person hat die Vorlage „{name}“ erhalten; "
    "Ihre Antwort wird zugestellt, sobald sie wieder schreibt."
)
NOTE_WINDOW_CLOSED = (
    "Lotse: Das 24-Stunden-Fenster von WhatsApp ist geschlossen und es ist keine Vorlage eingerichtet. "
    "Ihre Antwort wurde nicht zugestellt; sie wird zugestellt, falls die Person wieder schreibt."
)
NOTE_NOT_DELIVERED = "Lotse: Die Antwort konnte nicht zugestellt werden ({channel})."


async def on_event(handover: Handover, messengers: Messengers, tenant: Tenant, event: CounsellorEvent) -> str:
    """Apply one webhook event; returns what happened (for the log and the webhook's answer)."""
    sender = await handover.store.sender_for_ticket(tenant.id, event.ticket_id)
    record = await handover.store.record(sender) if sender else None
    if record is None:
        log.info("webhook for a ticket Lotse does not know, ignored", extra={"tenant": tenant.id})
        return "unknown_ticket"
    if event.kind == "closed":
        if record.owner != "counsellor":
            return "already_closed"
        record.owner = "bot"
        await handover.store.save_record(record)
        closed = bot_message(texts.say(record.locale, texts.HANDOVER_CLOSED), record.locale, kind="handover")
        await deliver(handover, messengers, tenant, record, closed, event.text)
        return "closed"
    await deliver(handover, messengers, tenant, record, handover.counsellor_message(record, event.text), event.text)
    return "delivered"


async def deliver(
    handover: Handover, messengers: Messengers, tenant: Tenant, record: Record, message: BotMessage, text: str
) -> None:
    if record.channel == "web":
        await handover.store.add_to_inbox(record.sender, dict(message))
        return
    if record.channel == "whatsapp" and handover.now().timestamp() - record.last_user_at > WHATSAPP_WINDOW_SECONDS:
        await _window_closed(handover, messengers, tenant, record, text)
        return
    channel = messengers.telegram if record.channel == "telegram" else messengers.whatsapp
    try:
        await channel.send(record.chat, [message])
    except SendError as exc:
        log.warning("counsellor reply not delivered", extra={"channel": record.channel, "code": exc.code})
        await handover.submit(
            tenant, record.sender, {"op": "note", "text": NOTE_NOT_DELIVERED.format(channel=exc.code)}
        )


async def _window_closed(handover: Handover, messengers: Messengers, tenant: Tenant, record: Record, text: str) -> None:
    if text:
        await handover.store.hold(record.sender, text)
    template = tenant.live_handover.whatsapp_template if tenant.live_handover else None
    note = NOTE_WINDOW_CLOSED
    if template is not None:
        try:
            await messengers.whatsapp.post(
                {
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": record.chat,
                    "type": "template",
                    "template": {"name": template.name, "language": {"code": template.language}},
                }
            )
            note = NOTE_WINDOW_TEMPLATE.format(name=template.name)
        except SendError as exc:
            log.warning("WhatsApp template not delivered", extra={"code": exc.code})
    await handover.submit(tenant, record.sender, {"op": "note", "text": note})
