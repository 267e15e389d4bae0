"""Liveness and readiness for orchestrators and the `make run` supervisor."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import StateDep
from api.schemas import HealthResponse, ReadinessResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthResponse)
async def healthz() -> HealthResponse:
    """The process is alive."""
    return HealthResponse(status="ok")


@router.get("/readyz", response_model=ReadinessResponse, responses={503: {"model": ReadinessResponse}})
async def readyz(state: StateDep) -> JSONResponse:
    """Ready: index loaded and Rasa reachable. Degraded (still 200): Rasa down, knowledge answers only.
    Not ready (503): no index. The reasons are fixed sentences: paths and exception texts go to the log."""
    reasons = []
    index_ready = state.knowledge.ready
    if not index_ready:
        reasons.append("knowledge index not loaded (see the log)")
    rasa_ok = await state.rasa.alive()
    if not rasa_ok:
        reasons.append("dialogue service (Rasa) not reachable: answering from the knowledge search only")
    status = "ready" if index_ready and rasa_ok else ("degraded" if index_ready else "not_ready")
    body = ReadinessResponse(
        status=status,
        index=state.build_name,
        rasa=rasa_ok,
        reasons=reasons,
    )
    return JSONResponse(body.model_dump(), status_code=200 if index_ready else 503)
