"""Lotse's public HTTP entry point: REST API, web widget and messenger webhooks (FastAPI)."""
