"""The embeddable web widget, the demo page and an example of a counselling centre's page."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parent.parent / "static"
router = APIRouter(include_in_schema=False)
CACHE = {"Cache-Control": "public, max-age=300"}


@router.get("/")
async def demo_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")


@router.get("/example")
async def example_page() -> FileResponse:
    return FileResponse(STATIC / "example.html", media_type="text/html; charset=utf-8")


@router.get("/widget.js")
async def widget_js() -> FileResponse:
    return FileResponse(STATIC / "widget.js", media_type="text/javascript; charset=utf-8", headers=CACHE)


@router.get("/widget-handover.js")
async def widget_handover_js() -> FileResponse:
    """Loaded by the widget only while a counsellor owns the conversation."""
    return FileResponse(STATIC / "widget-handover.js", media_type="text/javascript; charset=utf-8", headers=CACHE)


@router.get("/widget.css")
async def widget_css() -> FileResponse:
    return FileResponse(STATIC / "widget.css", media_type="text/css; charset=utf-8", headers=CACHE)
