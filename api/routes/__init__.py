"""Thin route modules, one per area; api/main.py includes their routers."""

__all__ = ["admin", "chat", "dashboard", "health", "knowledge", "meta", "webhooks", "widget"]
