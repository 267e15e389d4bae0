"""Findings of the loader and the validator, each pointing at a file and, where known, a line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from knowledge.yaml_files import load_yaml_file

Severity = Literal["error", "warning"]
Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    severity: Severity
    path: str
    message: str
    line: int | None = None
    code: str = "invalid"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity}: {self.message} [{self.code}]"


def error(path: str, message: str, line: int | None = None, code: str = "invalid") -> Problem:
    return Problem("error", path, message, line, code)


def warning(path: str, message: str, line: int | None = None, code: str = "warning") -> Problem:
    return Problem("warning", path, message, line, code)


def read_yaml_model(
    path: Path, shown: str, model: type[Model], cache_dir: Path | None = None
) -> tuple[Model | None, list[Problem]]:
    """A YAML file validated by ``model``; a broken file gives problems (with the line where YAML knows it).
    With ``cache_dir``, a large file's parsed data is kept there until the file changes."""
    try:
        return model.model_validate(load_yaml_file(path, cache_dir)), []
    except UnicodeDecodeError as exc:
        return None, [error(shown, f"not UTF-8 text ({exc.reason} at byte {exc.start})", None, "encoding")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [error(shown, f"YAML: {exc}", mark.line + 1 if mark else None, "yaml")]
    except ValidationError as exc:
        return None, [
            error(shown, f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}", None, "schema")
            for e in exc.errors()
        ]
