"""Lotse's public HTTP entry point: REST API, web widget and messenger webhooks (FastAPI).

Nothing imports ``api``: it is the top floor (api -> bot -> knowledge -> locales). Its surface for operators
and tests is the app factory (``api.main.create_app``), the settings (``api.config``) and the published
contract (``api.schemas``, served as the OpenAPI schema).
"""

__all__ = ["config", "main", "schemas"]
