"""Maintainer CLI: ``python -m knowledge --help`` (or ``make validate``, ``make index``, ``make eval``)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from knowledge.config import REPO_ROOT, KnowledgeSettings
from knowledge.question_sets import (
    Question,
    directory_beside,
    is_held_out,
    learned_sets,
    read_question_set,
    tuning_set,
)
from knowledge.validation import Report, validate_dir

app = typer.Typer(
    help="Validate, build and query Lotse's knowledge base.", no_args_is_help=True, pretty_exceptions_enable=False
)
console = Console()
err = Console(stderr=True)


def _settings() -> KnowledgeSettings:
    return KnowledgeSettings()


def _print_problems(report: Report, show_warnings: bool) -> None:
    shown = report.problems if show_warnings else report.errors
    for problem in sorted(shown, key=lambda p: (p.severity != "error", p.path, p.line or 0)):
        style = "red" if problem.severity == "error" else "yellow"
        console.print(f"[{style}]{problem}[/{style}]", highlight=False, soft_wrap=True)


def _coverage_table(report: Report) -> Table:
    locales_ = next(iter(report.coverage.values())).keys() if report.coverage else []
    table = Table(title="Coverage (topic x locale)", show_lines=False)
    table.add_column("topic")
    for code in locales_:
        table.add_column(code, justify="center")
    for topic, row in report.coverage.items():
        table.add_row(topic, *("[green]✓[/green]" if ok else "[red]✗[/red]" for ok in row.values()))
    return table


@app.command()
def validate(
    warnings: Annotated[bool, typer.Option("--warnings/--no-warnings", help="Show warnings too.")] = True,
    coverage: Annotated[bool, typer.Option(help="Print the topic x locale coverage table.")] = True,
    strict_coverage: Annotated[bool, typer.Option(help="Fail when a topic is missing in a locale.")] = False,
) -> None:
    """Check every entry and tenant file; exit 1 on errors."""
    settings = _settings()
    report = validate_dir(settings.knowledge_dir, cache_dir=settings.cache_dir)
    _print_problems(report, warnings)
    if coverage:
        console.print(_coverage_table(report))
    missing = report.missing()
    developed = sum(q.from_development_set for q in report.training.questions)
    console.print(
        f"{len(report.files)} files, {len(report.entries)} servable entries, "
        f"{len(report.training.questions)} labelled questions ({developed} of them from development sets), "
        f"[red]{len(report.errors)} errors[/red], [yellow]{len(report.warnings)} warnings[/yellow], "
        f"{len(missing)} topic/locale pairs missing"
    )
    if report.errors or (strict_coverage and missing):
        raise typer.Exit(1)


@app.command()
def build(
    skip_invalid: Annotated[bool, typer.Option(help="Build without the files that have errors.")] = False,
) -> None:
    """Validate, then embed changed entries and switch the served index atomically."""
    from knowledge.embedding import load_embedder
    from knowledge.embedding_cache import EmbeddingCache, model_directory
    from knowledge.index import build_index, current_build, servable_sources

    settings = _settings()
    report = validate_dir(settings.knowledge_dir, cache_dir=settings.cache_dir)
    if report.errors and not skip_invalid:
        _print_problems(report, show_warnings=False)
        err.print(f"[red]{len(report.errors)} errors: index not built; the current index keeps serving.[/red]")
        raise typer.Exit(1)
    sources = servable_sources(report, settings.knowledge_dir.parent)
    started = time.perf_counter()
    previous = current_build(settings.index_dir)
    embedder = load_embedder(settings.embedding_model, settings.embedding_threads)
    cache = EmbeddingCache(model_directory(settings.embeddings_dir, embedder.model_id))
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("embedding chunks", total=None)
        manifest = build_index(
            sources,
            embedder,
            settings.index_dir,
            progress=lambda n: progress.advance(task, n),
            on_plan=lambda total: progress.update(task, total=total),
            training=report.training,
            cache=cache,
        )
    from knowledge.search import SearchParams

    fitted_on = SearchParams.load().fitted_on
    if fitted_on and fitted_on != manifest.training:
        err.print("[yellow]knowledge/search.yaml was tuned with other labelled questions: run make tune[/yellow]")
    if current_build(settings.index_dir) == previous:
        console.print(f"index up to date: {manifest.entries} entries, {manifest.chunks} vectors ({previous.name})")
        return
    console.print(
        f"index built in {time.perf_counter() - started:.1f}s: {manifest.entries} entries, {manifest.chunks} vectors "
        f"and {manifest.training_questions} labelled questions "
        f"({manifest.embedded_chunks} new: {manifest.embedded_from_cache} from the embedding cache, "
        f"{manifest.embedded_chunks - manifest.embedded_from_cache} embedded; the rest reused), "
        f"model {manifest.model_id}, {manifest.faiss_kind} index"
    )
    if manifest.embedded_chunks - manifest.embedded_from_cache > 1000:
        console.print("make embeddings keeps these vectors for the next build from nothing (knowledge/embeddings)")


@app.command()
def embeddings() -> None:
    """Keep the served build's vectors that the embedding cache lacks in a new shard of knowledge/embeddings."""
    from knowledge.embedding_cache import EmbeddingCache, model_directory
    from knowledge.index import cache_items, current_build, load_index

    settings = _settings()
    if current_build(settings.index_dir) is None:
        err.print("[red]no index built yet: run make index first[/red]")
        raise typer.Exit(1)
    index = load_index(settings.index_dir)
    cache = EmbeddingCache(model_directory(settings.embeddings_dir, index.manifest.model_id))
    try:
        shard = cache.add_shard(cache_items(index))
    except ValueError as problem:
        err.print(f"[red]{problem}[/red]")
        raise typer.Exit(1) from None
    if shard is None:
        console.print(f"the embedding cache holds every text of the served build ({len(cache)} vectors)")
    else:
        console.print(f"wrote {shard.relative_to(REPO_ROOT) if shard.is_relative_to(REPO_ROOT) else shard}")


@app.command()
def stats() -> None:
    """Counts per locale and translation status, age of facts, and the served index."""
    from collections import Counter
    from datetime import date

    from knowledge.index import current_build

    settings = _settings()
    report = validate_dir(settings.knowledge_dir, cache_dir=settings.cache_dir)
    table = Table(title="Entries per locale")
    for column in ("locale", "entries", "original", "machine", "reviewed", "oldest check"):
        table.add_column(column)
    for code in sorted({e.locale for e in report.entries}):
        group = [e for e in report.entries if e.locale == code]
        counts = Counter(e.translation for e in group)
        table.add_row(
            code,
            str(len(group)),
            str(counts["original"]),
            str(counts["machine"]),
            str(counts["reviewed"]),
            str(min(e.checked for e in group)),
        )
    console.print(table)
    due = sorted((e.review_by, e.id, e.locale) for e in report.entries if e.review_by and e.review_by <= date.today())
    upcoming = sorted({(e.review_by, e.id) for e in report.entries if e.review_by and e.review_by > date.today()})
    if due:
        due_table = Table(title="Due for review (review_by has passed)")
        for column in ("review by", "entry", "locale"):
            due_table.add_column(column)
        for review_by, entry_id, locale in due:
            due_table.add_row(str(review_by), entry_id, locale)
        console.print(due_table)
    if upcoming:
        console.print("next reviews: " + ", ".join(f"{entry_id} {day}" for day, entry_id in upcoming[:10]))
    console.print(f"tenants: {', '.join(report.tenants) or 'none'}; errors: {len(report.errors)}; today {date.today()}")
    build_dir = current_build(settings.index_dir)
    if build_dir:
        console.print_json(
            json.dumps({k: v for k, v in json.loads((build_dir / "manifest.json").read_text()).items() if k != "files"})
        )
    else:
        console.print("no index built yet (make index)")


def _service():
    from knowledge.service import KnowledgeService

    service = KnowledgeService(_settings())
    if not service.reload_if_changed():
        err.print(f"[red]{service.error}[/red]")
        raise typer.Exit(1)
    return service


@app.command()
def search(
    query: str,
    locale: Annotated[str, typer.Option("--locale", "-l")] = "de",
    tenant: Annotated[str | None, typer.Option("--tenant", "-t")] = None,
    k: int = 5,
) -> None:
    """Search from the shell: ranked entries with their scores."""
    service = _service()
    result = service.searcher.search(query, locale, service.tenants.get(tenant or ""), k=k)
    title = f"answerable={result.answerable} (in scope {result.confidence:.2f}) ambiguous={result.ambiguous}"
    if result.boundary:
        title += f" closest uncovered subject: {result.boundary}"
    table = Table(title=title)
    for column in ("#", "id", "locale", "score", "dense", "bm25", "title"):
        table.add_column(column)
    for i, hit in enumerate(result.hits, 1):
        table.add_row(
            str(i),
            hit.entry.id,
            hit.entry.locale + (" (fallback)" if hit.fallback else ""),
            f"{hit.score:.3f}",
            f"{hit.dense:.3f}",
            f"{hit.lexical:.2f}",
            hit.entry.title,
        )
    console.print(table)


def _metrics_table(title: str, rows: dict, first_column: str = "locale") -> Table:
    table = Table(title=title)
    columns = (first_column, "n", "top-1", "top-3", "MRR", "OOS n", "OOS abstain", "false abstain", "answered+right")
    for column in (*columns, "asked back", "of those right", "wrong answer"):
        table.add_column(column, justify="right")
    for code, m in rows.items():
        table.add_row(
            code,
            str(m.in_scope),
            f"{m.top1:.3f}",
            f"{m.top3:.3f}",
            f"{m.mrr:.3f}",
            str(m.out_of_scope),
            f"{m.oos_abstention:.3f}",
            f"{m.false_abstention:.3f}",
            f"{m.answered_correctly:.3f}",
            f"{m.asked_back:.3f}",
            f"{m.asked_back_right:.3f}",
            f"{m.wrong_answer:.3f}",
        )
    return table


def _read_questions(path: Path) -> list[Question]:
    """A question set, or exit 2 with what is wrong with it."""
    if not path.is_file():
        err.print(f"[red]{escape(str(path))}: no such file.[/red]")
        raise typer.Exit(2)
    found, problems = read_question_set(path, str(path))
    for problem in problems or [f"{path}: no questions"] * (not found):
        err.print(f"[red]{escape(str(problem))}[/red]")
    if problems or not found:
        raise typer.Exit(2)
    return found


@app.command("eval")
def evaluate(
    questions: Annotated[
        Path | None, typer.Option("--set", help="Question file. [default: the newest development set]")
    ] = None,
    parts: Annotated[bool, typer.Option(help="Also measure each part of the ranking on its own.")] = False,
    langid: Annotated[bool, typer.Option(help="Also measure language identification on the questions.")] = False,
    errors: Annotated[int, typer.Option(help="Print this many misranked questions.")] = 0,
    confused: Annotated[int, typer.Option(help="Print the most frequent confusions (expected -> ranked first).")] = 15,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the metrics as JSON.")] = None,
) -> None:
    """Per locale: top-1, top-3, MRR, asking back, abstention per out-of-scope class, false abstention."""
    from dataclasses import asdict, replace

    from knowledge import evaluation

    questions = questions or tuning_set(directory_beside(_settings().knowledge_dir))
    if questions is None:
        err.print("[red]no development set in eval/: name one with --set.[/red]")
        raise typer.Exit(2)
    items = _read_questions(questions)
    service = _service()
    searcher = service.searcher
    vectors = searcher.embedder.encode_queries([q.q for q in items])
    outcomes = evaluation.run(searcher, items, service.catalogue, vectors)
    table = evaluation.by_locale(outcomes)
    console.print(_metrics_table(f"{questions} (fused, threshold {searcher.params.answer_threshold})", table))
    result: dict[str, object] = {"fused": {k: asdict(v) for k, v in table.items()}}
    by_class = evaluation.abstention_by_class(outcomes)
    if by_class:
        console.print(_class_table(by_class))
        result["abstention_by_class"] = by_class
    by_variant = evaluation.top1_by_variant(outcomes)
    if len(by_variant) > 1:
        console.print(_shares_table("Top-1 by way of writing", ("variant", "questions", "top-1"), by_variant))
        result["top1_by_variant"] = by_variant
    cautions = evaluation.cautions(outcomes)
    if cautions:
        title = "Answered with one entry: share given with the caution (your case may differ)"
        console.print(_shares_table(title, ("answer", "questions", "with caution"), cautions))
        result["cautions"] = cautions
    close = evaluation.close_topics(outcomes)
    if close:
        urgent = evaluation.urgent_help_first(outcomes)
        close_table = Table(title="Declined: share offered close topics (and, in scope, the right one among them)")
        for column in ("declined", "questions", "offered", "right one offered", "emergency numbers first"):
            close_table.add_column(column, justify="right")
        for name, (count, offered, right) in close.items():
            right_shown = "" if right != right else f"{right:.2f}"
            close_table.add_row(name, str(count), f"{offered:.2f}", right_shown, str(urgent[name]))
        console.print(close_table)
        result["close_topics"] = close
        result["urgent_help_first"] = {name: urgent[name] for name in close}
    pairs = evaluation.confusions(outcomes)
    if pairs and confused:
        confusion_table = Table(title="Most frequent confusions (expected -> ranked first)")
        for column in ("count", "expected", "ranked first"):
            confusion_table.add_column(column)
        for (expected, got), count in pairs.most_common(confused):
            confusion_table.add_row(str(count), expected, got)
        console.print(confusion_table)
        result["confusions"] = [[e, g, c] for (e, g), c in pairs.most_common()]
    if parts:
        base = searcher.params
        variants = {
            "nearest chunks": {"lexical_weight": 0.0, "classifier_weight": 0.0},
            "classifier": {"lexical_weight": 0.0, "classifier_weight": 1.0},
            "dense (chunks + classifier)": {"lexical_weight": 0.0},
            "lexical": {"lexical_weight": 1.0},
        }
        for name, changes in variants.items():
            params = replace(base, **changes)
            part = evaluation.by_locale(evaluation.run(searcher, items, service.catalogue, vectors, params=params))
            console.print(_metrics_table(f"{name} only (ranking; abstention not calibrated for it)", part))
            result[name] = {k: asdict(v) for k, v in part.items()}
    if langid:
        from knowledge.langid import MIN_CONFIDENCE, detect

        # Per locale: (right, wrong and confident). A confident wrong guess is the harmful one: the reply and the
        # session switch to a language the person may not read; an unsure guess keeps the session's language.
        hits: dict[str, list[tuple[bool, bool]]] = {}
        for item in items:
            found = detect(item.q)
            right = bool(found) and found.locale == item.locale
            confident = bool(found) and found.confidence >= MIN_CONFIDENCE
            hits.setdefault(item.locale, []).append((right, confident and not right))
        hits["all"] = [h for values in hits.values() for h in values]  # every question, short ones too
        shares = {code: tuple(sum(h[i] for h in values) / len(values) for i in (0, 1)) for code, values in hits.items()}
        lang_table = Table(title="Language identification (no locale given)")
        for column in ("locale", "accuracy", "wrong and confident"):
            lang_table.add_column(column, justify="left" if column == "locale" else "right")
        for code, (accuracy, confident_wrong) in shares.items():
            lang_table.add_row(code, f"{accuracy:.3f}", f"{confident_wrong:.3f}")
        console.print(lang_table)
        result["langid"] = {code: share[0] for code, share in shares.items() if code != "all"}
        result["langid_confident_wrong"] = {code: share[1] for code, share in shares.items() if code != "all"}
    for outcome in [o for o in outcomes if o.question.topic and o.rank != 1][:errors]:
        console.print(
            f"[yellow]{outcome.question.locale}[/yellow] {outcome.question.q!r}: expected "
            f"{outcome.question.topic}, got {outcome.topics[:3]}",
            highlight=False,
        )
    for outcome in [o for o in outcomes if not o.question.topic and o.answerable][:errors]:
        console.print(
            f"[red]{outcome.question.locale}[/red] {outcome.question.kind}: {outcome.question.q!r} "
            f"answered with {outcome.topics[:1]}",
            highlight=False,
        )
    if json_out:
        json_out.write_text(json.dumps(_json_ready(result), indent=2, ensure_ascii=False, allow_nan=False))


def _json_ready(value: object) -> object:
    """``value`` with every NaN (a share of nothing) as None, so that the file is JSON every parser reads."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(item) for item in value]
    return value


def _shares_table(title: str, columns: tuple[str, str, str], rows: dict[str, tuple[int, float]]) -> Table:
    """One row per group: its name, how many questions, and a share among them."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right")
    for name, (count, share) in rows.items():
        table.add_row(name, str(count), f"{share:.3f}")
    return table


def _class_table(by_class: dict[str, dict[str, tuple[int, float]]]) -> Table:
    locales = sorted({code for row in by_class.values() for code in row if code != "all"})
    table = Table(title="Out-of-scope abstention by class (questions declined)")
    table.add_column("class")
    for code in [*locales, "all"]:
        table.add_column(code, justify="right")
    for kind, row in by_class.items():
        table.add_row(kind, *(f"{row[c][1]:.2f} ({row[c][0]})" if c in row else "-" for c in [*locales, "all"]))
    return table


@app.command()
def conversations(
    path: Annotated[
        Path | None, typer.Option("--set", help="Conversation file. [default: the newest in eval/conversations/]")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the table as JSON.")] = None,
) -> None:
    """Second messages of two-message conversations, read alone and read after the first (follow-ups)."""
    from knowledge import evaluation
    from knowledge.question_sets import conversation_sets, load_conversations

    found = conversation_sets(directory_beside(_settings().knowledge_dir))
    path = path or (found[-1] if found else None)
    if path is None or not path.is_file():
        err.print(f"[red]no conversation set {escape(str(path or 'in eval/conversations/'))}[/red]")
        raise typer.Exit(2)
    try:
        items = load_conversations(path)
    except ValueError as problem:
        err.print(f"[red]{escape(str(problem))}[/red]")
        raise typer.Exit(2) from None
    service = _service()
    alone, in_conversation = evaluation.run_conversations(service.searcher, items, service.catalogue)
    rows = evaluation.conversations_by_kind(alone, in_conversation)
    table = Table(title=f"{_shown(path)}: second messages, read alone -> read after the first message")
    for column in ("kind", "messages", "right", "wrong (answered)", "declined in scope"):
        table.add_column(column, justify="right")
    for kind, ((n, right, wrong), (_, right_after, wrong_after)) in rows.items():
        declined = (n - right - wrong, n - right_after - wrong_after)
        table.add_row(
            kind, str(n), f"{right} -> {right_after}", f"{wrong} -> {wrong_after}", f"{declined[0]} -> {declined[1]}"
        )
    console.print(table)
    console.print("right: answered with the right topic (in scope) or declined (out of scope).")
    if json_out:
        json_out.write_text(json.dumps({kind: {"alone": a, "in_conversation": c} for kind, (a, c) in rows.items()}))


@app.command()
def agreement(
    questions: Annotated[Path, typer.Option("--set", help="Question file with the first labels.")],
    second: Annotated[Path, typer.Option(help="The same questions, labelled by another labeller.")],
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the tables as JSON.")] = None,
) -> None:
    """How far two labellings of one set agree, and the scores against each and where both agree."""
    from knowledge import agreement as labels
    from knowledge import evaluation

    if json_out and not json_out.parent.is_dir():
        err.print(f"[red]{escape(str(json_out.parent))}: no such folder for --json.[/red]")
        raise typer.Exit(2)
    first_items, second_items = _read_questions(questions), _read_questions(second)
    try:  # before the index is loaded: two labellings of different messages are refused at once
        agreements = labels.compare_by_locale(first_items, second_items)
    except ValueError as problem:
        err.print(f"[red]{escape(str(problem))}[/red]")
        raise typer.Exit(2) from None
    table = Table(title=f"{_shown(questions)} and {_shown(second)}: how far the two labellings agree")
    for column in ("locale", "messages", "scope", "scope kappa", "both in scope", "same topic", "alike"):
        table.add_column(column, justify="right")
    for code, a in agreements.items():
        table.add_row(
            code,
            str(a.questions),
            f"{a.scope:.3f}",
            f"{a.scope_kappa:.3f}",
            str(a.both_in_scope),
            f"{a.topic:.3f}",
            str(a.agreed),
        )
    console.print(table)
    console.print("alike: out of scope both, or in scope with the same topic.")
    service = _service()
    outcomes = evaluation.run(service.searcher, first_items, service.catalogue)
    scored = labels.scores(outcomes, second_items)
    console.print(_metrics_table("Lotse's answers scored against each labelling", scored, "labels"))
    agreed = labels.agreed_by_locale(outcomes, second_items)
    console.print(_metrics_table("Only the messages both labellings read alike", agreed))
    if json_out:
        result = {
            "agreement": {k: asdict(v) for k, v in agreements.items()},
            "scores": {k: asdict(v) for k, v in scored.items()},
            "where_both_agree": {k: asdict(v) for k, v in agreed.items()},
        }
        json_out.write_text(json.dumps(_json_ready(result), indent=2, allow_nan=False))


@app.command()
def decopy(
    apply: Annotated[bool, typer.Option(help="Remove the copies (without it, only list them).")] = False,
) -> None:
    """Near copies of the held-out sets on the learning side: remove them after a new held-out set is frozen."""
    from knowledge.near_copies import SIMILARITY, remove_near_copies  # rapidfuzz: a maintainer dependency

    result = remove_near_copies(REPO_ROOT, apply)
    for path, count in sorted(result.removed.items()):
        console.print(f"{path}: {count}")
    for path, question in result.to_reword:
        console.print(f"[yellow]reword in {path}:[/yellow] {escape(question)}")
    total = sum(result.removed.values())
    done = "removed" if apply else "to remove (dry run; --apply removes them)"
    console.print(f"{total} near copies (character similarity ≥ {SIMILARITY} after folding) {done}")
    if result.to_reword:
        console.print(f"{len(result.to_reword)} entry example questions to reword by hand: they are content")


def _shown(path: Path) -> str:
    """A path as the repository's files name it: relative to the repository when inside it."""
    resolved = path.resolve()
    return str(resolved.relative_to(REPO_ROOT)) if resolved.is_relative_to(REPO_ROOT) else str(path)


@app.command()
def tune(
    questions: Annotated[
        list[Path] | None,
        typer.Option("--set", help="Development question file. [default: the newest development set]"),
    ] = None,
    write: Annotated[bool, typer.Option(help="Write knowledge/search.yaml.")] = True,
) -> None:
    """Tune fusion weights and the abstention threshold on the newest development set (never on a held-out
    set, nor on a set the classifier learned from)."""
    from knowledge import evaluation
    from knowledge.search import PARAMS_FILE

    development_dir = directory_beside(_settings().knowledge_dir)
    newest = tuning_set(development_dir)
    questions = questions or ([newest] if newest else [])
    if not questions:
        err.print("[red]no development set in eval/: name one with --set.[/red]")
        raise typer.Exit(2)
    held_out = [path for path in questions if is_held_out(path)]
    if held_out:
        err.print(f"[red]{held_out[0]} is a held-out set: tune on a development set only.[/red]")
        raise typer.Exit(2)
    learned = {path.resolve() for path in learned_sets(development_dir)}
    taught = [path for path in questions if path.resolve() in learned]
    if taught:
        err.print(f"[red]{taught[0]}: the classifier learns from it; tune on {newest}.[/red]")
        raise typer.Exit(2)
    items = [item for path in questions for item in _read_questions(path)]
    service = _service()
    # The index may have been built while other sets were present: what it learned from is what counts.
    in_index = {q.origin for q in service.searcher.index.training if q.origin}
    taught = [path for path in questions if path.stem in in_index]
    if taught:
        err.print(f"[red]{taught[0]}: the current index learned from it; rebuild it (make index) first.[/red]")
        raise typer.Exit(2)
    params, m, cv = evaluation.tune(service.searcher, items, service.catalogue)
    shown = {k: v for k, v in asdict(params).items() if k != "abstention_curves"}  # the curves: in the file
    console.print(shown)
    summary = (
        f"dev: top-1 {m.top1:.3f}; abstention (5-fold cross-validated, {int(cv['signals'])} questions) on out-of-scope "
        f"{cv['oos_abstention']:.3f} (development sets' {cv['development_oos_abstention']:.3f}, the tuning set's "
        f"own {cv['tuning_oos_abstention']:.3f}), false abstention on the development sets' in-scope questions "
        f"{cv['false_abstention']:.3f} (at most {cv['worst_locale_false_abstention']:.3f} in one locale); answered "
        f"with a caution: {cv['cautioned_answers_out_of_scope']:.3f} of the out-of-scope questions still answered, "
        f"{cv['cautioned_answers_in_scope']:.3f} of the answered in-scope ones; close topics offered from a fused "
        f"score of {cv['close_threshold']:.4f}"
    )
    console.print(summary)
    if write:
        params.save(
            PARAMS_FILE,
            comment=(
                f"Tuned by `python -m knowledge tune {' '.join(f'--set {_shown(p)}' for p in questions)}` "
                f"on {len(items)} development questions and the index's labelled questions.\n{summary}"
            ),
        )
        console.print(f"written {PARAMS_FILE}")


@app.command("copy-database")
def copy_database(
    to: Annotated[str, typer.Option(help="The PostgreSQL URL to copy into (postgresql://user:password@host/db).")],
    source: Annotated[
        Path | None, typer.Option("--from", help="The SQLite file to copy from (default: the one `make run` uses).")
    ] = None,
) -> None:
    """Copy feedback, unanswered questions and turn counts from the SQLite file into PostgreSQL."""
    import sqlite3

    from knowledge.copy_database import copy_database as copy
    from knowledge.database import DatabaseError, open_database, redact

    settings = _settings()
    origin = source or settings.database_path
    if not origin.is_file():
        err.print(Text(f"no SQLite file at {origin}"))
        raise typer.Exit(1)
    try:
        from_db = open_database(origin)  # SQLite refuses a file that is not a database here
    except sqlite3.Error as exc:
        err.print(Text(f"{origin} is not an SQLite database Lotse wrote: {exc}"))
        raise typer.Exit(1) from None
    try:
        to_db = open_database(to)
    except DatabaseError as exc:
        from_db.close()
        err.print(Text(str(exc)))
        raise typer.Exit(1) from None
    try:
        for table in copy(from_db, to_db, settings.feedback_retention_days):
            if table.skipped:
                console.print(Text(f"{table.table}: not copied, the target table has rows already"))
            else:
                console.print(Text(f"{table.table}: {table.rows} rows copied"))
    except Exception as exc:  # noqa: BLE001  (a lost connection, a full disk: say so, and that a rerun resumes)
        err.print(Text(f"copy stopped: {redact(str(exc))}. Tables copied so far stay; run again to copy the rest."))
        raise typer.Exit(1) from None
    finally:
        from_db.close()
        to_db.close()


@app.command()
def report(
    limit: Annotated[int, typer.Option(help="Rows per section.")] = 10,
) -> None:
    """Feedback report: most unhelpful entries and most frequent unanswered questions per locale."""
    from knowledge.database import DatabaseError
    from knowledge.feedback import FeedbackStore

    # What users typed is shown as plain text: "[/]" in a question would otherwise be read as rich markup.

    settings = _settings()
    try:
        store = FeedbackStore.open(settings.database_location, settings.feedback_retention_days)
    except DatabaseError as exc:
        err.print(Text(str(exc)))
        raise typer.Exit(1) from None
    unhelpful = Table(title="Entries rated unhelpful")
    for column in ("entry", "locale", "unhelpful", "helpful"):
        unhelpful.add_column(column)
    for row in store.unhelpful_entries(limit):
        unhelpful.add_row(Text(row.entry_id), Text(row.locale), str(row.unhelpful), str(row.helpful))
    console.print(unhelpful)
    gaps = Table(title="Unanswered questions")
    for column in ("locale", "count", "question"):
        gaps.add_column(column)
    for row in store.unanswered(limit):
        gaps.add_row(Text(row.locale), str(row.count), Text(row.question))
    console.print(gaps)
    subjects = Table(title="Unanswered questions by uncovered subject (knowledge/boundaries)")
    for column in ("subject", "count"):
        subjects.add_column(column)
    for subject, count in store.unanswered_subjects()[:limit]:
        subjects.add_row(Text(subject), str(count))
    console.print(subjects)
    store.close()
