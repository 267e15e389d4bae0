"""Handover to a human counsellor inside the same conversation.

``adapter`` is the shape every counselling platform implements (open, append, close, note, read its webhook);
``zammad`` is the first implementation. ``store`` keeps who owns each conversation, reference codes, queued
messages and webhook deliveries in the shared state (api/shared.py), so every API replica sees them and they
survive restarts. ``flow`` is the conversation side (consent, reference code, relaying, back to the bot) and
``replies`` delivers a counsellor's answers to the widget, Telegram or WhatsApp.
"""
