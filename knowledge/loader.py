"""Read entry files (Markdown with YAML front matter) into validated ``Entry`` objects.

A file that cannot be read or does not match the schema yields problems with file and line, never an
exception: one broken file must not stop the others from being served.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import frontmatter
import yaml
from pydantic import ValidationError

from knowledge.models import Catalogue, Entry
from knowledge.problems import Problem, error

FRONT_MATTER_FIRST_LINE = 2  # line 1 is the opening "---"
PARSER_LINE_OFFSET = 1  # python-frontmatter hands YAML the text right after "---", starting on line 1


@dataclass(frozen=True)
class LoadedFile:
    path: Path
    content_hash: str
    entry: Entry | None
    problems: tuple[Problem, ...]
    body_line: int = 1  # file line where the Markdown body starts


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def entry_files(entries_dir: Path) -> list[Path]:
    return sorted(entries_dir.glob("*/*.md"))


def read_front_matter(path: Path) -> dict:
    """An entry file's front matter as plain data, not validated: for tools that must see broken entries too."""
    return dict(frontmatter.load(path).metadata)


def load_catalogue(path: Path) -> Catalogue:
    return Catalogue.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def _key_lines(front_matter: str) -> dict[str, int]:
    """File line of each top-level key, to point errors at the right place."""
    try:
        node = yaml.compose(front_matter)
    except yaml.YAMLError:
        return {}
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: k.start_mark.line + FRONT_MATTER_FIRST_LINE for k, _ in node.value}


def _yaml_error_line(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + PARSER_LINE_OFFSET if mark else None


def _yaml_error_message(exc: yaml.YAMLError) -> str:
    reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context, mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and mark:
        reason += f" ({context} that starts on line {mark.line + PARSER_LINE_OFFSET})"
    return reason


def parse_entry(text: str, path: str) -> tuple[Entry | None, list[Problem]]:
    """Parse one entry file's text. Pure: no file system access."""
    if not text.startswith("---"):
        return None, [error(path, "file must start with '---' and YAML front matter", 1, "front-matter")]
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        return None, [error(path, f"YAML front matter: {_yaml_error_message(exc)}", _yaml_error_line(exc), "yaml")]
    except (ValueError, TypeError) as exc:
        return None, [error(path, f"front matter: {exc}", 1, "front-matter")]
    if not post.metadata:
        return None, [error(path, "empty front matter", 1, "front-matter")]

    front_matter = text.split("---", 2)[1].removeprefix("\n")  # its first line is file line 2
    data = dict(post.metadata)
    data["body"] = post.content.strip()
    try:
        return Entry.model_validate(data), []
    except ValidationError as exc:
        lines = _key_lines(front_matter)
        body_line = front_matter.count("\n") + FRONT_MATTER_FIRST_LINE + 1
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else ""
            location = ".".join(str(part) for part in err["loc"])
            line = body_line if field == "body" else lines.get(field, 1)
            message = err["msg"].removeprefix("Value error, ")
            problems.append(error(path, f"{location or 'entry'}: {message}", line, "schema"))
        return None, problems


def load_file(path: Path, root: Path) -> LoadedFile:
    shown = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return LoadedFile(path, "", None, (error(shown, f"cannot read file: {exc}", None, "read"),))
    entry, problems = parse_entry(text, shown)
    parts = text.split("---", 2)
    body_line = parts[0].count("\n") + parts[1].count("\n") + 2 if len(parts) == 3 else 1
    if entry is not None:
        if entry.id != path.parent.name:
            problems.append(
                error(shown, f"id {entry.id!r} differs from its folder {path.parent.name!r}", 1, "id-folder")
            )
        if entry.locale != path.stem:
            problems.append(
                error(shown, f"locale {entry.locale!r} differs from the file name {path.name!r}", 1, "locale-file")
            )
    return LoadedFile(path, content_hash(raw), entry, tuple(problems), body_line)


def load_all(entries_dir: Path, root: Path | None = None) -> list[LoadedFile]:
    root = root or entries_dir.parent.parent
    return [load_file(path, root) for path in entry_files(entries_dir)]
