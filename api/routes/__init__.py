"""Thin route modules, one per area; api/main.py includes their routers."""

__all__ = ["admin", "chat", "health", "knowledge", "meta", "webhooks", "widget"]
