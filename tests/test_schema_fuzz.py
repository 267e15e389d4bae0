"""Schema-based fuzzing of the public API (Schemathesis): no generated input may produce a server error.

Rasa is replaced by a transport that answers like its REST channel; everything else is real. Reproduce with
more examples:  LOTSE_FUZZ_EXAMPLES=500 .venv/bin/python -m pytest tests/test_schema_fuzz.py
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import httpx
import schemathesis
from hypothesis import HealthCheck, settings

from api.main import create_app
from knowledge.config import KnowledgeSettings
from knowledge.service import KnowledgeService
from tests.fakes import Upstreams, api_settings

EXAMPLES = int(os.environ.get("LOTSE_FUZZ_EXAMPLES", "40"))

_service = KnowledgeService(KnowledgeSettings())
_service.reload_if_changed()
app = create_app(
    api_settings(
        Path(tempfile.mkdtemp(prefix="lotse-fuzz-")),
        rate_limit_ip="100000/minute",
        rate_limit_session="100000/minute",
    ),
    _service,
    transport=httpx.MockTransport(Upstreams().handler),
)
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_causes_a_server_error(case):
    response = case.call()
    assert response.status_code < 500, f"{case.method} {case.path} -> {response.status_code}: {response.text[:300]}"
