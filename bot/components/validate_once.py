"""Check each JSON schema once per process, not on every call: ``jsonschema.validate`` with a cache.

Rasa 3.6 validates every response of the action server with ``jsonschema.validate(result, schema)``, and
that function first checks the schema itself against the JSON Schema meta-schema (draft 2020-12 for a schema
without ``$schema``), on every call. With two action calls per turn (the slot mappings and the answer) this
was about 40 % of Rasa's time for a chat turn (profiled with py-spy; bench/chat_parts.py measures it).
jsonschema's own documentation advises building a validator once when one schema validates many instances.

``install()`` replaces ``jsonschema.validate`` with a version that checks each distinct schema once and keeps
its validator; the instance is validated exactly as before (same validator class, same ``best_match`` error),
and an invalid schema still raises ``SchemaError``. Rasa imports ``jsonschema.validate`` inside its functions,
so the replacement applies wherever it validates. ``LOTSE_RASA_VALIDATE_ONCE=false`` leaves jsonschema alone
(to measure the difference).
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any

import jsonschema
from jsonschema import exceptions
from jsonschema.validators import validator_for

_original_validate = jsonschema.validate


@lru_cache(maxsize=64)
def _validator(schema_json: str) -> Any:
    schema = json.loads(schema_json)
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate(instance: Any, schema: Any, cls: Any = None, *args: Any, **kwargs: Any) -> None:
    if cls is not None or args or kwargs:  # a caller that chooses its own validator: as jsonschema does it
        return _original_validate(instance, schema, cls, *args, **kwargs)
    try:
        key = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError):  # a schema that is not plain JSON cannot be a cache key
        return _original_validate(instance, schema)
    error = exceptions.best_match(_validator(key).iter_errors(instance))
    if error is not None:
        raise error
    return None


def install() -> None:
    if os.environ.get("LOTSE_RASA_VALIDATE_ONCE", "true").lower() not in {"0", "false", "no"}:
        jsonschema.validate = validate
