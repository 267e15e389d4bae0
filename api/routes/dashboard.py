"""The dashboard: what Lotse did for a tenant in a period, as a page, as JSON and as CSV.

Open to the admin token (every tenant, or all together) and to a tenant's dashboard token (that tenant only);
browsers send the token as the password of HTTP Basic, API clients as a bearer token (``DashboardDep``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import HTMLResponse, Response

from api.dashboard import PageContext, collect, page_locale, render_page, to_csv
from api.deps import StateDep
from api.guards import DashboardDep
from api.schemas import ErrorResponse, StatsResponse

router = APIRouter(tags=["dashboard"])
ERRORS = {code: {"model": ErrorResponse} for code in (401, 403, 404, 422, 429)}  # 429: too many wrong tokens
PRIVATE = {"Cache-Control": "private, no-store"}


@router.get("/api/v1/stats", response_model=StatsResponse, responses=ERRORS)
async def stats(state: StateDep, query: DashboardDep) -> Response:
    """Turns, outcomes, topics, declined questions, feedback, service health and content status for a period
    (``from``/``to``, at most two years). Counts only: no user ids, and question texts only from groups of
    at least three."""
    result = await collect(state, query, state.content)
    return Response(result.model_dump_json(), media_type="application/json", headers=PRIVATE)


@router.get(
    "/api/v1/stats.csv",
    response_class=Response,
    responses={**ERRORS, 200: {"content": {"text/csv": {}}, "description": "One row per day."}},
)
async def stats_csv(state: StateDep, query: DashboardDep) -> Response:
    """The daily turns, conversations and outcomes of ``GET /api/v1/stats`` as CSV."""
    result = await collect(state, query, state.content)
    name = f"lotse-{query.tenant.id if query.tenant else 'all'}-{query.start}-{query.end}.csv"
    headers = {**PRIVATE, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(to_csv(result.usage), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
async def dashboard(
    state: StateDep,
    query: DashboardDep,
    lang: Annotated[str | None, Query(max_length=5)] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    result = await collect(state, query, state.content)
    locale = page_locale(lang, accept_language)
    tenants = sorted((t.id, t.display_name(locale)) for t in state.knowledge.tenants.values()) if query.admin else []
    html = render_page(PageContext(result, locale, tenants, query))
    return HTMLResponse(html, headers=PRIVATE)
