"""The knowledge engine as a long-lived service: the current index, tenants and catalogue, reloaded when a
new build appears. The API and the action server each hold one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from knowledge.config import KnowledgeSettings
from knowledge.embedding import Embedder, load_embedder
from knowledge.index import current_build, load_index
from knowledge.loader import load_catalogue
from knowledge.models import Catalogue
from knowledge.search import Searcher, SearchParams
from knowledge.tenants import Tenant, load_tenants

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    searcher: Searcher
    build: str


class KnowledgeService:
    def __init__(self, settings: KnowledgeSettings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self.error: str | None = None
        self.catalogue: Catalogue = load_catalogue(settings.knowledge_dir / "catalogue.yaml")
        self.tenants: dict[str, Tenant] = {}
        self.reload_tenants()

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.embedding_model, self.settings.embedding_threads)
        return self._embedder

    @property
    def ready(self) -> bool:
        return self._snapshot is not None

    @property
    def searcher(self) -> Searcher:
        snapshot = self._snapshot
        if snapshot is None:
            raise RuntimeError(self.error or "knowledge index not loaded")
        return snapshot.searcher

    @property
    def build(self) -> str | None:
        return self._snapshot.build if self._snapshot else None

    def reload_tenants(self) -> None:
        tenants, problems = load_tenants(self.settings.tenants_dir)
        for problem in problems:
            log.error("tenant file ignored: %s", problem)
        self.tenants = tenants

    def reload_if_changed(self) -> bool:
        """Load the current build if it differs from the one in use. Never raises: a failed load keeps the
        previous index serving and records the reason in ``error``."""
        build = current_build(self.settings.index_dir)
        if build is None:
            self.error = f"no index built in {self.settings.index_dir}"
            return False
        if self._snapshot and self._snapshot.build == str(build):
            return False
        with self._lock:
            try:
                index = load_index(self.settings.index_dir)
                searcher = Searcher(index, self.embedder, SearchParams.load(), self.catalogue.topic_of)
            except Exception as exc:  # noqa: BLE001 - any broken build must leave the old one serving
                self.error = f"index {build.name} not loaded: {exc}"
                log.exception("index reload failed")
                return False
            if searcher.params.fitted_on and searcher.params.fitted_on != index.manifest.training:
                log.warning("knowledge/search.yaml was tuned with other labelled questions than this build: make tune")
            self._snapshot = Snapshot(searcher, str(index.path))
            self.error = None
            self.reload_tenants()
            log.info("index loaded", extra={"build": index.path.name, "entries": len(index.entries)})
            return True


@asynccontextmanager
async def periodically(seconds: float, task: Callable[[], object]) -> AsyncIterator[None]:
    """While the block runs, run ``task`` every ``seconds`` (0 = never), off the event loop. A failed run is
    logged and the next one happens as planned."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await asyncio.to_thread(task)
            except Exception:  # noqa: BLE001 - housekeeping must not stop because one run failed
                log.exception("periodic task failed", extra={"task": getattr(task, "__qualname__", str(task))})

    runner = asyncio.create_task(loop()) if seconds > 0 else None
    try:
        yield
    finally:
        if runner:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
