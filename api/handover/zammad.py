"""Zammad (https://zammad.org) as the counselling platform: its REST API with token auth, and its webhooks.

One ticket per handover in the tenant's group, the transcript as the first article, every further message of
the person as a public article from the customer. A trigger sends ticket updates to ``POST /webhooks/zammad``
signed with ``X-Hub-Signature`` (HMAC-SHA1 of the body); a public article by an agent is a reply for the
person, a closed ticket ends the handover. Set-up: docs/handover-zammad.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

import httpx

from api.handover.adapter import BadSignature, CounsellorEvent, Opening, PlatformUnavailable
from knowledge.tenants import LiveHandover

CUSTOMER_DOMAIN = "lotse.invalid"  # pseudonymous customers; .invalid can never receive mail (RFC 2606)
CLOSED_STATES = ("closed", "merged", "removed")


class ZammadAdapter:
    def __init__(self, http: httpx.AsyncClient, config: LiveHandover, token: str, webhook_secret: str) -> None:
        self._http = http
        self._config = config
        self._api = f"{config.url}/api/v1"
        self._headers = {"Authorization": f"Token token={token}"}
        self._secret = webhook_secret.encode()

    async def _call(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._http.request(method, self._api + path, json=body, headers=self._headers)
        except httpx.HTTPError as exc:
            raise PlatformUnavailable(f"Zammad not reachable: {type(exc).__name__}") from exc
        if not response.is_success:
            raise PlatformUnavailable(f"Zammad answered {response.status_code} to {method} {path}")
        try:
            answer = response.json()
        except ValueError:
            raise PlatformUnavailable(f"Zammad answered {method} {path} with no JSON") from None
        return answer if isinstance(answer, dict) else {}

    async def open(self, opening: Opening) -> str:
        title = f"[{opening.locale.upper()}] Lotse {opening.reference} ({opening.language})"
        ticket: dict[str, Any] = {
            "title": title,
            "group": self._config.group,
            "customer_id": f"guess:{opening.pseudonym}@{CUSTOMER_DOMAIN}",
            "article": _article(transcript_text(opening), internal=False) | {"subject": title},
        }
        if self._config.ticket_field:
            ticket[self._config.ticket_field] = True
        created = await self._call("POST", "/tickets", ticket)
        if not isinstance(created.get("id"), int):
            raise PlatformUnavailable("Zammad created no ticket id")
        return str(created["id"])

    async def append(self, ticket_id: str, text: str) -> None:
        await self._call("POST", "/ticket_articles", {"ticket_id": int(ticket_id)} | _article(text, internal=False))

    async def note(self, ticket_id: str, text: str) -> None:
        await self._call("POST", "/ticket_articles", {"ticket_id": int(ticket_id)} | _article(text, internal=True))

    async def close(self, ticket_id: str) -> None:
        await self._call("PUT", f"/tickets/{int(ticket_id)}", {"state": "closed"})

    def delivery_id(self, headers: Mapping[str, str]) -> str | None:
        return headers.get("x-zammad-delivery") or None

    def read_event(self, headers: Mapping[str, str], body: bytes) -> CounsellorEvent | None:
        signature = headers.get("x-hub-signature")
        if not signature:
            raise BadSignature("missing")
        expected = "sha1=" + hmac.new(self._secret, body, hashlib.sha1).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
            raise BadSignature("wrong")
        return parse_webhook(json.loads(body))


def _article(text: str, internal: bool) -> dict[str, Any]:
    return {
        "body": text,
        "content_type": "text/plain",
        "type": "note",
        "internal": internal,
        "sender": "System" if internal else "Customer",
    }


def transcript_text(opening: Opening) -> str:
    """The first article, for counsellors (in German): who, language, matched topics, then the conversation."""
    lines = [
        "Übergabe aus dem Lotse-Chat" if not opening.callback else "Frage aus dem Lotse-Chat (Rückmeldung erbeten)",
        f"Referenz: {opening.reference}",
        f"Pseudonym: {opening.pseudonym}",
        f"Sprache: {opening.language} ({opening.locale})",
    ]
    if opening.topics:
        lines += ["", "Erkannte Themen:"] + [f"- {t.title}: {t.url}" for t in opening.topics]
    lines += ["", "Verlauf:"] + [f"{who}: {text}" for who, text in opening.transcript]
    return "\n".join(lines)


def parse_webhook(payload: Any) -> CounsellorEvent | None:
    """Zammad's default webhook payload (``{"ticket": {...}, "article": {...}}``) -> the event for the person.

    Only public articles written by an agent are replies; internal notes, the person's own articles (the
    trigger may fire on them too) and system messages are not."""
    if not isinstance(payload, dict) or not isinstance(payload.get("ticket"), dict):
        raise ValueError("a Zammad webhook has a ticket object")
    ticket = payload["ticket"]
    if not isinstance(ticket.get("id"), int):
        raise ValueError("ticket.id must be an integer")
    ticket_id = str(ticket["id"])
    if str(ticket.get("state") or "").lower() in CLOSED_STATES:
        return CounsellorEvent(ticket_id, "closed")
    article = payload.get("article")
    if not isinstance(article, dict) or article.get("internal") is not False or article.get("sender") != "Agent":
        return None
    body = article.get("body")
    if not isinstance(body, str):
        return None
    text = html_to_text(body) if "html" in str(article.get("content_type") or "") else body.strip()
    return CounsellorEvent(ticket_id, "reply", text) if text else None


class _Text(HTMLParser):
    BREAKS = {"br", "p", "div", "li", "tr", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Zammad stores agent replies as HTML; people read plain text (links stay as their text)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    return re.sub(r"\n\s*\n+", "\n\n", "\n".join(line.strip() for line in text.splitlines())).strip()
