"""The deployment description: docker-compose.yml, Dockerfiles, supervisord.conf, .ci/run (no Docker engine
here)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_services_and_health_checks():
    assert {"rasa", "actions", "api", "index", "postgres", "redis"} <= set(SERVICES)
    for name in ("rasa", "actions", "api", "postgres", "redis"):
        check = SERVICES[name]["healthcheck"]
        assert check["test"] and check["interval"], name


def test_only_the_api_is_published():
    published = [name for name, service in SERVICES.items() if service.get("ports")]
    assert published == ["api"]
    assert SERVICES["api"]["environment"]["LOTSE_RASA_URL"] == "http://rasa:5005"
    assert SERVICES["rasa"]["environment"]["LOTSE_ACTIONS_URL"] == "http://actions:5055"


def test_the_api_is_published_on_loopback_only_and_the_backend_is_internal():
    assert SERVICES["api"]["ports"] == ["127.0.0.1:${LOTSE_PUBLISH_PORT:-8000}:8000"]
    assert COMPOSE["networks"]["backend"]["internal"] is True
    on_frontend = [name for name, service in SERVICES.items() if "frontend" in service["networks"]]
    assert on_frontend == ["api"]
    # The proxy's connections arrive from the frontend network, the only one whose X-Forwarded-For is believed.
    (subnet,) = [pool["subnet"] for pool in COMPOSE["networks"]["frontend"]["ipam"]["config"]]
    assert SERVICES["api"]["environment"]["LOTSE_FORWARDED_ALLOW_IPS"] == subnet
    assert all("backend" in service["networks"] for service in SERVICES.values())


def test_rasa_gets_every_variable_of_its_production_endpoints():
    """Rasa refuses to start when a ${VAR} of its endpoints file is unset."""
    endpoints = (ROOT / "bot/endpoints.production.yml").read_text()
    wanted = set(re.findall(r"\$\{(\w+)\}", endpoints))
    assert {"LOTSE_POSTGRES_HOST", "LOTSE_REDIS_PASSWORD"} <= wanted
    assert wanted <= set(SERVICES["rasa"]["environment"])
    assert {"LOTSE_POSTGRES_HOST", "LOTSE_POSTGRES_PASSWORD"} <= set(SERVICES["actions"]["environment"])  # retention


def test_rasa_and_the_action_server_share_a_required_token():
    """Rasa sends the token to the action server from both endpoints files; compose refuses to start without it."""
    for name in ("endpoints.yml", "endpoints.production.yml"):
        endpoints = yaml.safe_load((ROOT / "bot" / name).read_text())
        for use in ("action_endpoint", "nlg"):
            assert endpoints[use]["headers"] == {"Authorization": "Bearer ${LOTSE_ACTIONS_TOKEN}"}, (name, use)
    for service in ("rasa", "actions"):
        assert "LOTSE_ACTIONS_TOKEN:?" in SERVICES[service]["environment"]["LOTSE_ACTIONS_TOKEN"], service


def test_redis_requires_a_password_and_the_api_uses_it():
    redis = SERVICES["redis"]
    assert (
        "--requirepass" in " ".join(redis["command"])
        and "LOTSE_REDIS_PASSWORD:?" in redis["environment"]["REDIS_PASSWORD"]
    )
    assert SERVICES["api"]["environment"]["LOTSE_REDIS_URL"].startswith("redis://:${LOTSE_REDIS_PASSWORD:?")
    assert "LOTSE_PSEUDONYM_KEY:?" in SERVICES["api"]["environment"]["LOTSE_PSEUDONYM_KEY"]


def test_start_order_and_shared_index():
    assert SERVICES["api"]["depends_on"]["index"]["condition"] == "service_completed_successfully"
    assert SERVICES["rasa"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert any(v.startswith("index:") for v in SERVICES["api"]["volumes"])
    assert set(COMPOSE["volumes"]) == {"index", "pgdata"}


def test_feedback_and_turn_counts_go_to_the_tracker_stores_postgresql():
    """Not an SQLite file on a volume shared by the API and the action server."""
    for name in ("api", "actions"):
        url = SERVICES[name]["environment"]["LOTSE_DATABASE_URL"]
        assert url.startswith("postgresql://") and "@postgres:5432/${LOTSE_POSTGRES_DB:-lotse}" in url, name
        assert SERVICES[name]["depends_on"]["postgres"]["condition"] == "service_healthy", name
        assert all(v.startswith("index:") for v in SERVICES[name]["volumes"]), name


def test_builds_point_at_existing_dockerfiles_and_files():
    for service in SERVICES.values():
        build = service.get("build")
        if build:
            assert (ROOT / build["context"] / build["dockerfile"]).is_file()
    rasa_dockerfile = (ROOT / "docker/rasa.Dockerfile").read_text()
    assert "endpoints.production.yml" in rasa_dockerfile and (ROOT / "bot/endpoints.production.yml").is_file()
    production = yaml.safe_load((ROOT / "bot/endpoints.production.yml").read_text())
    assert production["tracker_store"]["dialect"] == "postgresql" and production["lock_store"]["type"] == "redis"
    app_dockerfile = (ROOT / "docker/app.Dockerfile").read_text()
    assert "download.pytorch.org/whl/cpu" in app_dockerfile  # never the CUDA build


def test_secrets_are_not_in_the_file():
    text = (ROOT / "docker-compose.yml").read_text()
    assert not re.search(r"(PASSWORD|TOKEN|SECRET)\s*:\s*[\"']?[A-Za-z0-9]{8,}", text)


@pytest.mark.skipif(not shutil.which("docker"), reason="docker CLI not installed")
def test_docker_compose_config_when_available():
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("docker compose plugin not installed")
    result = subprocess.run(
        ["docker", "compose", "config", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            "LOTSE_POSTGRES_PASSWORD": "example",
            "LOTSE_REDIS_PASSWORD": "example",
            "LOTSE_PSEUDONYM_KEY": "example",
            "LOTSE_ACTIONS_TOKEN": "example",
            "PATH": "/usr/bin:/bin",
        },
    )
    assert result.returncode == 0, result.stderr


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "make test" in (ROOT / "README.md").read_text()


def test_make_run_restarts_every_process():
    """The supervisor of `make run` (a crash is restarted; tests/test_faults.py kills processes for real)."""
    import configparser

    config = configparser.RawConfigParser()
    config.read(ROOT / "supervisord.conf")
    programs = {name.removeprefix("program:") for name in config.sections() if name.startswith("program:")}
    assert programs == {"rasa", "actions", "api"}
    for name in programs:
        section = config[f"program:{name}"]
        assert section["autorestart"] == "true" and section["stopasgroup"] == "true"
        assert 'OMP_NUM_THREADS="1"' in section["environment"]
