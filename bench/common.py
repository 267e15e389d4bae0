"""Helpers for the benchmark scripts: percentiles and resident memory."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def percentiles(samples_ms: list[float]) -> str:
    values = np.asarray(samples_ms)
    return (
        f"p50 {np.percentile(values, 50):.1f} ms, p95 {np.percentile(values, 95):.1f} ms, "
        f"max {values.max():.1f} ms (n={len(values)})"
    )


def rss_mb(pid: int | None = None) -> float:
    """Resident set size from /proc (Linux)."""
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024
