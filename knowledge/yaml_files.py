"""Reading YAML files: with libyaml's parser, and large files parsed once.

A large file's data is kept as JSON in a cache folder until the file's bytes change. The question sets that
teach the classifier hold about 80,000 lines. Even with libyaml's parser, building their Python objects takes
PyYAML about 3 s on every validation, most of an index build after an edit of one entry's text; JSON of the
same data loads in a fraction of that. A changed file misses the cache and is parsed again; a damaged, foreign
or unwritable cache only costs the parse.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

import yaml

# libyaml's parser when PyYAML was built with it (the wheels are): the question sets hold tens of thousands of
# lines, which the pure-Python parser takes about 15 s to read and libyaml well under one.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# What a cache entry depends on besides the file: its layout and the parser that made the data.
FORMAT = f"1/{yaml.__version__}/{_SAFE_LOADER.__name__}"
MIN_BYTES = 64_000  # smaller files parse faster than the cache is checked


def load_yaml(text: str) -> object:
    """``yaml.safe_load`` with the fastest safe parser available."""
    return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)


def load_yaml_file(path: Path, cache_dir: Path | None) -> object:
    """The data of the YAML file ``path`` (``UnicodeDecodeError`` and ``yaml.YAMLError`` as when parsing it)."""
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    if cache_dir is None or len(raw) < MIN_BYTES:
        return load_yaml(text)
    digest = hashlib.sha256(raw).hexdigest()
    # One cache file per source file, so that edits replace their entry instead of piling up.
    slot = cache_dir / f"{hashlib.sha256(os.fsencode(path.resolve())).hexdigest()[:32]}.json"
    cached = _read(slot)
    if cached.get("format") == FORMAT and cached.get("sha256") == digest and "data" in cached:
        return cached["data"]
    data = load_yaml(text)
    _write(slot, {"format": FORMAT, "sha256": digest, "data": data})
    return data


# The cache is only ever a shortcut: whatever goes wrong with it (a damaged or foreign entry, a full or read-only
# disk, data JSON cannot hold or would change) costs the parse and nothing else.
_CACHE_FAULTS = (OSError, ValueError, TypeError, RecursionError)  # UnicodeError is a ValueError


def _read(slot: Path) -> dict[str, object]:
    try:
        found = json.loads(slot.read_text(encoding="utf-8"))
    except _CACHE_FAULTS:
        return {}
    return found if isinstance(found, dict) else {}


def _write(slot: Path, entry: dict[str, object]) -> None:
    temporary: str | None = None
    try:
        text = json.dumps(entry, ensure_ascii=False, allow_nan=False)
        if json.loads(text) != entry:
            return  # JSON would change the data (a number as a key becomes a string): not cached
        slot.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=slot.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, slot)  # readers see the old entry or the new one, never half a file
        temporary = None
    except _CACHE_FAULTS:
        return
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
