"""Findings of the loader and the validator, each pointing at a file and, where known, a line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


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
