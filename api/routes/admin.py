"""Operations: reload a new index without restarting, and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import StateDep
from api.errors import ApiError
from api.guards import AdminDep, MetricsAccessDep

router = APIRouter(tags=["admin"])


@router.post("/api/v1/admin/reload", responses={401: {}, 429: {}, 503: {}})
async def reload_index(state: StateDep, _: AdminDep) -> dict:
    """Load the newest index build and tenant files now (also happens by polling every few seconds)."""
    changed = state.knowledge.reload_if_changed()
    state.knowledge.reload_tenants()
    if not state.knowledge.ready:
        raise ApiError(503, "index_not_ready", state.knowledge.error or "no index")
    return {"reloaded": changed, "build": state.build_name, "tenants": sorted(state.knowledge.tenants)}


@router.get("/metrics", include_in_schema=False)
async def metrics(state: StateDep, _: MetricsAccessDep) -> Response:
    """Prometheus metrics, with the metrics token (``LOTSE_METRICS_TOKEN``)."""
    return state.metrics.render()
