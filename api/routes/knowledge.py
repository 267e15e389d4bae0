"""Direct access to the knowledge base, without the dialogue: search and entries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import KnowledgeDep, StateDep, TenantDep, check_locale
from api.errors import ApiError
from api.guards import IpRateLimitDep
from api.schemas import EntryResponse, ErrorResponse, SearchResponse, SearchResultItem
from bot.language import resolve_locale
from knowledge.text import clean_message

router = APIRouter(prefix="/api/v1", tags=["knowledge"])
ERRORS = {code: {"model": ErrorResponse} for code in (404, 422, 429, 503)}


def _snippet(summary: str, limit: int = 240) -> str:
    return summary if len(summary) <= limit else summary[: limit - 1].rsplit(" ", 1)[0] + "…"


@router.get("/search", response_model=SearchResponse, responses=ERRORS)
async def search(
    knowledge: KnowledgeDep,
    state: StateDep,
    tenant: TenantDep,
    _: IpRateLimitDep,
    q: Annotated[str, Query(min_length=1, max_length=500, description="The question.")],
    locale: Annotated[
        str | None, Query(description="Detected from q when omitted (as in the chat); else the tenant's default.")
    ] = None,
    k: Annotated[int, Query(ge=1, le=20)] = 5,
) -> SearchResponse:
    """Ranked entries for a question, and whether the best one answers it (abstains otherwise)."""
    query = clean_message(q)
    if not query:
        raise ApiError(422, "invalid_request", "q must contain text")
    code, _ = await state.cpu.run(resolve_locale, query, tenant, requested=check_locale(locale, tenant))
    result = await state.cpu.run(knowledge.searcher.search, query, code, tenant, k=k)
    state.metrics.searches.labels(code, str(result.answerable).lower()).inc()
    return SearchResponse(
        query=query,
        locale=code,
        answerable=result.answerable,
        close=result.close,
        results=[
            SearchResultItem(
                id=h.entry.id,
                title=h.entry.title,
                score=round(h.score, 4),
                locale=h.entry.locale,
                snippet=_snippet(h.entry.summary),
            )
            for h in result.hits
        ],
    )


@router.get("/entries/{entry_id}", response_model=EntryResponse, responses=ERRORS)
async def entry(
    knowledge: KnowledgeDep,
    _: IpRateLimitDep,
    tenant: TenantDep,
    entry_id: Annotated[str, Path(max_length=80, pattern=r"^[a-z][a-z0-9.-]*$")],
    locale: Annotated[str, Query()] = "de",
) -> EntryResponse:
    """One entry in the requested locale (German or English when it does not exist in that locale yet).
    A tenant's local entries exist only for that tenant (``tenant``)."""
    check_locale(locale)
    found = knowledge.searcher.version(entry_id, locale, tenant)
    if found is None:
        raise ApiError(404, "unknown_entry", f"No entry {entry_id!r}.")
    item, fallback = found
    return EntryResponse(
        id=item.id,
        locale=item.locale,
        title=item.title,
        body=item.body,
        summary=item.summary,
        sources=item.sources,
        checked=item.checked,
        translation=item.translation,
        related=item.related,
        fallback=fallback,
    )
