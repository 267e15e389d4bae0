"""Messenger channels (Telegram, WhatsApp): one module per platform, shared delivery and formatting.

``formatting`` turns a bot message into channel text (pure), ``delivery`` runs one incoming message through
the conversation and sends the reply, ``telegram`` and ``whatsapp`` speak the platforms' APIs. The webhooks
themselves are in ``api/routes/webhooks.py``.
"""
