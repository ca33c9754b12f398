"""Deploy artifacts, checked with the tools a platform engineer would use on them.

Kubernetes: `kubectl kustomize` renders every overlay, every object validates
against the Kubernetes schema offline, checkov finds nothing (exceptions are
annotated on the objects, with their reasons), and the rendered YAML carries
the probes, grace arithmetic, security context and capacity plan. Every
target: hadolint passes on the Dockerfile.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from uv import find_uv_bin

from extensions.derived import derive

from .conftest import CloudFormationLoader, Project, answers_for, each_variant, variants_where

pytestmark = pytest.mark.slow

TOOLS = Path(sys.executable).parent
KUBERNETES = variants_where(deploy_target="kubernetes")
EVERY_VARIANT = variants_where()
OVERLAYS = ("dev", "prod")
# The oldest Kubernetes the manifests are for (the preStop sleep action), and the newest.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.utils.latest_version())
CHECKOV = "checkov==3.3.30"
# The serverless rules for cfn-lint (ES/WS codes: logs, tracing, throttling).
CFN_LINT_SERVERLESS = "cfn-lint-serverless==0.3.6"
RECOMMENDED_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
)


def derived_of(project: Project) -> dict[str, Any]:
    """What the template derived from the project's recorded answers."""
    answers = yaml.safe_load((project.path / ".copier-answers.yml").read_text())
    return derive(answers)


def run_tool(project: Project, *command: str, timeout: float = 120) -> str:
    """Run a tool in the project; fail the test with its output unless it succeeds."""
    result = subprocess.run(
        command, cwd=project.path, capture_output=True, text=True, check=False, timeout=timeout
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout


def checkov(project: Project, *arguments: str) -> dict[str, Any]:
    """checkov's JSON report on what ``arguments`` name (offline: no policy download)."""
    output = run_tool(
        project,
        *(find_uv_bin(), "tool", "run", "--from", CHECKOV, "checkov"),
        *arguments,
        *("--skip-download", "--output", "json"),
        timeout=600,
    )
    report: dict[str, Any] = json.loads(output)
    return report


def kustomize(project: Project, overlay: str) -> list[dict[str, Any]]:
    return kustomize_directory(project.path / "deploy/k8s/overlays" / overlay)


def kustomize_directory(overlay: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [str(TOOLS / "kubectl"), "kustomize", str(overlay)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return [document for document in yaml.safe_load_all(result.stdout) if document]


# What the API server refuses to change in an object that exists: an apply that
# changes one fails until someone deletes the object by hand.
IMMUTABLE_FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "Deployment": (("spec", "selector"),),
    "StatefulSet": (
        ("spec", "selector"),
        ("spec", "serviceName"),
        ("spec", "volumeClaimTemplates"),
    ),
    "DaemonSet": (("spec", "selector"),),
    "Job": (("spec", "selector"), ("spec", "template"), ("spec", "completionMode")),
    "Service": (("spec", "clusterIP"), ("spec", "clusterIPs")),
    "PersistentVolumeClaim": (("spec", "storageClassName"), ("spec", "accessModes")),
}


def field(item: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = item
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def immutable_changes(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[str]:
    """What applying ``after`` over ``before`` would be refused for, as kind/name: field."""
    existing = {(item["kind"], item["metadata"]["name"]): item for item in before}
    changes = []
    for item in after:
        old = existing.get((item["kind"], item["metadata"]["name"]))
        if old is None:
            continue
        paths = IMMUTABLE_FIELDS.get(item["kind"], ())
        if old.get("immutable"):  # an immutable ConfigMap or Secret
            paths = (*paths, ("data",), ("binaryData",))
        changes += [
            f"{item['kind']}/{item['metadata']['name']}: {'.'.join(path)}"
            for path in paths
            if field(old, path) != field(item, path)
        ]
    return changes


def release_overlay(source: Path, destination: Path, tag: str) -> Path:
    """A copy of a service's deploy/k8s with the prod overlay moved to image ``tag``.

    What `kustomize edit set image` does for a release, without kustomize.
    """
    shutil.copytree(source / "deploy/k8s", destination)
    kustomization = destination / "overlays/prod/kustomization.yaml"
    config = yaml.safe_load(kustomization.read_text())
    [image] = config["images"]
    image["newTag"] = tag
    kustomization.write_text(yaml.safe_dump(config))
    return destination / "overlays/prod"


def images_of(pod: dict[str, Any]) -> set[str]:
    containers = [*pod.get("initContainers", []), *pod["containers"]]
    return {container["image"] for container in containers}


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    [found] = [item for item in objects if item["kind"] == kind]
    return found


def workload(objects: list[dict[str, Any]], component: str) -> dict[str, Any]:
    """The Deployment of one component: web, or the queue's worker."""
    [found] = [
        item
        for item in objects
        if item["kind"] == "Deployment"
        and item["metadata"]["labels"]["app.kubernetes.io/component"] == component
    ]
    return found


@each_variant(*KUBERNETES)
def test_overlays_render_and_validate_against_the_schema(project: Project) -> None:
    has_queue = project.answers.get("queue", "none") != "none"
    for overlay in OVERLAYS:
        objects = kustomize(project, overlay)
        kinds = sorted(item["kind"] for item in objects)
        expected = [
            "ConfigMap",
            "Deployment",
            *(["Deployment"] if has_queue else []),
            "HorizontalPodAutoscaler",
            "NetworkPolicy",
            "PodDisruptionBudget",
            *(["PodDisruptionBudget"] if has_queue else []),
            "Service",
            "ServiceAccount",
            *(["ServiceAccount"] if has_queue else []),
        ]
        assert kinds == expected
        for item in objects:
            assert item["metadata"]["namespace"].startswith("orders-api")
            labels = item["metadata"]["labels"]
            assert all(label in labels for label in RECOMMENDED_LABELS), item["kind"]
            for version in KUBERNETES_VERSIONS:
                kubernetes_validate.validate(item, version, strict=True)
        # Never a secret value: the Deployment references a Secret made out of band.
        assert "Secret" not in kinds


@each_variant(*KUBERNETES)
def test_the_runbook_states_the_oldest_kubernetes_the_manifests_validate_for(
    project: Project,
) -> None:
    oldest = ".".join(KUBERNETES_VERSIONS[0].split(".")[:2])
    runbook = (project.path / "docs/runbook-kubernetes.md").read_text()
    assert f"The manifests need Kubernetes {oldest} or later" in runbook


@each_variant(*KUBERNETES)
def test_every_name_and_label_fits_a_dns_label(project: Project) -> None:
    """Names, namespaces and label values fit 63 characters, ConfigMap hashes included."""
    for overlay in OVERLAYS:
        for item in kustomize(project, overlay):
            metadata = item["metadata"]
            values = [metadata["name"], metadata["namespace"], *metadata["labels"].values()]
            assert all(len(value) <= 63 for value in values), (item["kind"], values)


@each_variant(*KUBERNETES)
def test_policy_scan_finds_nothing(project: Project, tmp_path: Path) -> None:
    for overlay in OVERLAYS:
        (tmp_path / f"{overlay}.yaml").write_text(yaml.safe_dump_all(kustomize(project, overlay)))
    report = checkov(project, "--directory", str(tmp_path), "--framework", "kubernetes")
    assert report["summary"]["failed"] == 0
    assert report["summary"]["passed"] > 0
    # Every skip is one of the reasoned annotations on the objects.
    skipped = {check["check_id"] for check in report["results"]["skipped_checks"]}
    assert skipped <= {"CKV_K8S_43", "CKV_K8S_35"}


def assert_own_service_account(
    objects: list[dict[str, Any]], pod: dict[str, Any], component: str
) -> None:
    """The pod runs as a ServiceAccount of its component's own, which mounts no token."""
    [account] = [
        item
        for item in objects
        if item["kind"] == "ServiceAccount"
        and item["metadata"]["labels"]["app.kubernetes.io/component"] == component
    ]
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    assert account["automountServiceAccountToken"] is False


def assert_disruption_budget(objects: list[dict[str, Any]], component: str) -> None:
    """A PodDisruptionBudget lets node drains evict the component's pods one at a time."""
    pods = workload(objects, component)["spec"]["template"]["metadata"]["labels"]
    [budget] = [
        item["spec"]
        for item in objects
        if item["kind"] == "PodDisruptionBudget"
        and item["metadata"]["labels"]["app.kubernetes.io/component"] == component
    ]
    assert budget["maxUnavailable"] == 1
    assert budget["selector"]["matchLabels"].items() <= pods.items()


@each_variant(*KUBERNETES)
def test_pod_probes_grace_and_security(project: Project) -> None:
    objects = kustomize(project, "prod")
    pod = workload(objects, "web")["spec"]["template"]["spec"]
    [container] = pod["containers"]
    config = one(objects, "ConfigMap")["data"]

    # Three probes with distinct jobs: startup waits for the lifespan, liveness
    # asks only the process, readiness asks the dependencies.
    assert container["startupProbe"]["httpGet"]["path"] == "/livez"
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60
    assert (
        container["readinessProbe"]["periodSeconds"] < container["livenessProbe"]["periodSeconds"]
    )

    # The grace arithmetic: preStop, then SIGTERM -> drain -> in-flight requests
    # (uvicorn's graceful-shutdown timeout) -> lifespan shutdown, all inside the grace period.
    grace = derived_of(project)["grace"]
    prestop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    drain = float(config["SHUTDOWN_DRAIN_SECONDS"])
    graceful_timeout = int(config["GRACEFUL_TIMEOUT"])
    uvicorn_timeout = (
        graceful_timeout - drain - grace.lifespan_shutdown
    )  # Settings.shutdown_timeout
    assert prestop == grace.prestop > 0
    assert drain == grace.drain > 0
    assert uvicorn_timeout == grace.uvicorn_graceful_shutdown > 0
    assert pod["terminationGracePeriodSeconds"] == grace.termination_grace_period
    assert (
        prestop + drain + uvicorn_timeout + grace.lifespan_shutdown
        < (pod["terminationGracePeriodSeconds"])
    )
    settings = (project.path / "src" / project.package / "settings.py").read_text()
    assert f"LIFESPAN_SHUTDOWN_SECONDS = {grace.lifespan_shutdown}" in settings

    # The restricted profile, a read-only root and a writable /tmp.
    assert pod["automountServiceAccountToken"] is False
    assert_own_service_account(objects, pod, "web")
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    [tmp] = [mount for mount in container["volumeMounts"] if mount["mountPath"] == "/tmp"]  # noqa: S108
    [volume] = [volume for volume in pod["volumes"] if volume["name"] == tmp["name"]]
    assert "emptyDir" in volume
    dockerfile = (project.path / "Dockerfile").read_text()
    assert f"USER {pod['securityContext']['runAsUser']}:" in dockerfile

    # The container runs the image's entrypoint: one uvicorn process.
    assert "command" not in container
    assert "args" not in container
    assert f'ENTRYPOINT ["python", "-m", "{project.package}.serve"]' in dockerfile
    if project.answers["database"] != "none":
        [database_url] = [item for item in container["env"] if item["name"] == "DATABASE_URL"]
        assert set(database_url) == {"name", "valueFrom"}
        assert database_url["valueFrom"]["secretKeyRef"]["key"] == "url"
        # The migrations run first, in the pod, from the same image.
        [migrate] = pod["initContainers"]
        assert migrate["command"] == ["python", "-m", f"{project.package}.migrate"]
        assert migrate["image"] == container["image"]
        assert migrate["securityContext"] == security
        assert migrate["env"] == [database_url]


@each_variant(*KUBERNETES)
def test_the_next_release_applies_with_no_manual_step(project: Project, tmp_path: Path) -> None:
    """`kubectl apply -k` again with a new image: nothing immutable changes, and every
    pod of the new image migrates before it runs (a Job's pod template cannot change)."""
    this = kustomize(project, "prod")
    following = kustomize_directory(release_overlay(project.path, tmp_path / "k8s", "0.1.1"))
    assert immutable_changes(this, following) == []
    assert "Job" not in {item["kind"] for item in following}
    pods = [item["spec"]["template"]["spec"] for item in following if item["kind"] == "Deployment"]
    assert pods
    for pod in pods:
        assert {image.rsplit(":", 1)[1] for image in images_of(pod)} == {"0.1.1"}
        uses_database = any(
            variable["name"] == "DATABASE_URL"
            for container in pod["containers"]
            for variable in container.get("env", [])
        )
        if project.answers["database"] != "none":
            # Every pod that opens the database, the workers' too, migrates first.
            assert uses_database
            [migrate] = pod["initContainers"]
            assert migrate["command"] == ["python", "-m", f"{project.package}.migrate"]
        else:
            assert "initContainers" not in pod


def test_immutable_changes_finds_a_changed_job_template() -> None:
    """The check itself: a fixed-name Job with a new image is what the second apply refuses."""
    job: dict[str, Any] = {
        "kind": "Job",
        "metadata": {"name": "orders-api-migrate"},
        "spec": {"template": {"spec": {"containers": [{"image": "orders-api:0.1.0"}]}}},
    }
    next_job = json.loads(json.dumps(job))
    next_job["spec"]["template"]["spec"]["containers"][0]["image"] = "orders-api:0.1.1"
    assert immutable_changes([job], [next_job]) == ["Job/orders-api-migrate: spec.template"]
    assert immutable_changes([job], [job]) == []


@each_variant(*KUBERNETES)
def test_replicas_resources_and_pool_follow_the_plan(project: Project) -> None:
    plan = derived_of(project)["plan"]
    prod = kustomize(project, "prod")
    hpa = one(prod, "HorizontalPodAutoscaler")["spec"]
    assert hpa["maxReplicas"] == plan.inputs.max_replicas
    assert hpa["minReplicas"] == min(2, plan.inputs.max_replicas)
    deployment = workload(prod, "web")["spec"]
    assert "replicas" not in deployment  # the HPA owns the count
    surge = int(deployment["strategy"]["rollingUpdate"]["maxSurge"].rstrip("%"))
    # Kubernetes rounds a percentage surge up, as the plan does.
    assert math.ceil(plan.inputs.max_replicas * surge / 100) == plan.surge_replicas
    assert deployment["strategy"]["rollingUpdate"]["maxUnavailable"] == 0

    # One process per pod: resources for one.
    assert plan.inputs.web_processes == 1
    resources = deployment["template"]["spec"]["containers"][0]["resources"]
    assert resources == {
        "requests": {"cpu": "500m", "memory": "256Mi"},
        "limits": {"cpu": "1000m", "memory": "512Mi"},
    }

    config = one(prod, "ConfigMap")["data"]
    assert config["ENVIRONMENT"] == "production"
    assert "WEB_CONCURRENCY" not in config
    if project.answers["database"] != "none":
        assert int(config["DB_POOL_SIZE"]) == plan.pool_size
        assert int(config["DB_MAX_OVERFLOW"]) == plan.max_overflow
        if plan.budget is not None and plan.inputs.pooler == "none":
            peak_pods = hpa["maxReplicas"] + plan.surge_replicas
            in_use = peak_pods * (int(config["DB_POOL_SIZE"]) + int(config["DB_MAX_OVERFLOW"]))
            assert in_use <= plan.budget

    dev = kustomize(project, "dev")
    assert one(dev, "ConfigMap")["data"]["ENVIRONMENT"] == "development"
    assert one(dev, "HorizontalPodAutoscaler")["spec"]["maxReplicas"] <= hpa["maxReplicas"]


KUBERNETES_QUEUES = tuple(
    name for name in KUBERNETES if answers_for(name).get("queue", "none") != "none"
)


@each_variant(*KUBERNETES_QUEUES)
def test_worker_deployment_runs_the_planned_workers(project: Project) -> None:
    derived = derived_of(project)
    plan = derived["plan"]
    slug = yaml.safe_load((project.path / ".copier-answers.yml").read_text())["project_slug"]
    objects = kustomize(project, "prod")
    web = workload(objects, "web")["spec"]["template"]["spec"]
    worker = workload(objects, "worker")["spec"]
    pod = worker["template"]["spec"]
    [container] = pod["containers"]

    # As many single-process pods as the plan counts, surging as the plan assumes.
    assert worker["replicas"] == plan.inputs.worker_processes
    surge = int(worker["strategy"]["rollingUpdate"]["maxSurge"].rstrip("%"))
    assert plan.worker_processes_worst_case == worker["replicas"] + math.ceil(
        worker["replicas"] * surge / 100
    )
    assert container["command"] == ["python", "-m", f"{project.package}.workers"]
    assert "ports" not in container  # nothing routes to a worker

    # Liveness is the per-process heartbeat, checked in the pod.
    heartbeat = ["python", "-m", f"{project.package}.workers.heartbeat"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["exec"]["command"] == heartbeat
    [tmp] = [mount for mount in container["volumeMounts"] if mount["mountPath"] == "/tmp"]  # noqa: S108
    assert any(volume["name"] == tmp["name"] and "emptyDir" in volume for volume in pod["volumes"])

    # Held jobs get WORKER_SHUTDOWN_TIMEOUT after SIGTERM, inside the pod's grace.
    assert pod["terminationGracePeriodSeconds"] == derived["worker_stop_seconds"]
    assert pod["terminationGracePeriodSeconds"] > derived["worker_shutdown_seconds"]
    assert "lifecycle" not in container
    assert_disruption_budget(objects, "worker")
    assert_disruption_budget(objects, "web")
    # Each workload its own identity: the web's ServiceAccount is not the worker's.
    assert_own_service_account(objects, pod, "worker")
    assert pod["serviceAccountName"] != web["serviceAccountName"]

    # The web pod's security, and both URLs only as Secret references, in both pods.
    assert pod["securityContext"] == web["securityContext"]
    assert container["securityContext"] == web["containers"][0]["securityContext"]
    for spec in (pod, web):
        refs = {
            item["name"]: item["valueFrom"]["secretKeyRef"] for item in spec["containers"][0]["env"]
        }
        assert set(refs) == {"DATABASE_URL", "BROKER_URL"}
        assert refs["BROKER_URL"] == {"name": f"{slug}-broker", "key": "url"}


@each_variant(*EVERY_VARIANT)
def test_dockerfile_passes_hadolint(project: Project) -> None:
    run_tool(project, str(TOOLS / "hadolint"), "--failure-threshold", "info", "Dockerfile")


@each_variant(*EVERY_VARIANT)
def test_dockerfile_policy_scan_finds_nothing(project: Project) -> None:
    report = checkov(project, "--file", "Dockerfile", "--framework", "dockerfile")
    assert report["summary"]["failed"] == 0, report["results"]["failed_checks"]
    passed = {check["check_id"] for check in report["results"]["passed_checks"]}
    assert "CKV_DOCKER_2" in passed  # a HEALTHCHECK (tests/test_serve.py runs it)


LAMBDA = variants_where(deploy_target="lambda")


@each_variant(*LAMBDA)
def test_sam_template_passes_cfn_lint_and_follows_the_plan(project: Project) -> None:
    run_tool(project, str(TOOLS / "cfn-lint"), "template.yaml")
    run_tool(
        project,
        *(find_uv_bin(), "tool", "run", "--from", CFN_LINT_SERVERLESS, "cfn-lint"),
        *("-t", "template.yaml", "-a", "cfn_lint_serverless.rules"),
        timeout=300,
    )

    plan = derived_of(project)["plan"]
    source = (project.path / "template.yaml").read_text()
    template = yaml.load(source, Loader=CloudFormationLoader)  # noqa: S506 - a SafeLoader
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    function = template["Resources"]["Function"]["Properties"]
    # Reserved concurrency is the plan's "replicas"; Lambda adds no surge.
    assert function["ReservedConcurrentExecutions"] == plan.inputs.max_replicas
    assert plan.surge_replicas == 0
    assert function["Timeout"] < 30  # the HTTP API's integration limit
    [event] = function["Events"].values()
    assert event["Type"] == "HttpApi"
    variables = function["Environment"]["Variables"]
    if project.answers["database"] != "none":
        # One request at a time per environment: one connection, or none kept behind PgBouncer.
        assert (plan.pool_size, plan.max_overflow) == (1, 0)
        assert (variables["DB_POOL_SIZE"], variables["DB_MAX_OVERFLOW"]) == ("1", "0")
        assert plan.uses_null_pool == (project.answers.get("db_pooler") == "pgbouncer")
        if plan.budget is not None and not plan.uses_null_pool:
            assert plan.worst_case_connections <= plan.budget
        # Only the secret's ARN: the function reads the value at run time.
        assert variables["DATABASE_URL_SECRET_ARN"] == {"Ref": "DatabaseUrlSecretArn"}
        assert "DATABASE_URL" not in variables
    # No secret value anywhere: neither resolved at deploy time nor in an output.
    assert "resolve:secretsmanager" not in source
    assert "Secret" not in json.dumps(template.get("Outputs", {}))
    # Timeouts derived from the target: the database gives up before the function.
    settings = (project.path / "src" / project.package / "settings.py").read_text()
    if project.answers["database"] in ("postgresql", "mysql"):
        statement = re.search(r"db_statement_timeout_ms: int = Field\(default=(\d+)", settings)
        assert statement is not None
        assert int(statement[1]) < function["Timeout"] * 1000
    # Logs kept for a while, tracing on, the API throttled and its requests logged.
    assert function["Tracing"] == "Active"
    resources = template["Resources"]
    assert resources["HttpApi"]["Properties"]["AccessLogSettings"]["DestinationArn"]
    assert resources["HttpApi"]["Properties"]["DefaultRouteSettings"]["ThrottlingRateLimit"]
    for group in ("AccessLogs", "FunctionLogs"):
        assert resources[group]["Properties"]["RetentionInDays"]


@each_variant(*LAMBDA)
def test_sam_template_encrypts_the_function_environment(project: Project) -> None:
    """checkov's CKV_AWS_173: Lambda environment variables encrypted with a key of ours."""
    report = checkov(
        project,
        "--file",
        "template.yaml",
        "--framework",
        "cloudformation",
        "--check",
        "CKV_AWS_173",
    )
    assert report["summary"]["failed"] == 0
    assert report["summary"]["passed"] == 1
    dockerfile = (project.path / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["python", "-m", "awslambdaric"]' in dockerfile
    assert f'CMD ["{project.package}.lambda_handler.handler"]' in dockerfile


@each_variant("lambda-rds-proxy", "lambda-mysql")
def test_lambda_build_has_no_dev_dependencies_and_no_grpc(project: Project) -> None:
    exported = project.sync().uv(
        "export", "--locked", "--no-dev", "--no-hashes", "--format", "requirements-txt"
    )
    packages = {
        line.split("==")[0].strip().lower()
        for line in exported.stdout.splitlines()
        if line and not line.startswith(("#", " "))
    }
    assert {"mangum", "awslambdaric"} <= packages
    assert not {name for name in packages if "grpc" in name}
    assert not packages & {"pytest", "mypy", "ruff", "asgi-lifespan"}
    assert "uv sync --locked --no-dev" in (project.path / "Dockerfile").read_text()
