"""Run a CI file's job on this machine, as a hosted runner would, against the loopback servers.

A GitHub Actions job or a GitLab CI job is read from its YAML; each service
container it declares stands for one of the servers on loopback (.ci/run
starts them), so every URL in the job's environment that names a container
is pointed at that server, with its account. Then every `run:` step (GitHub)
or script line (GitLab) runs in order in the checkout, with the variables the
CI provider sets, and a step that fails fails the job. `uses:` steps are the
provider's machinery: the checkout is the project itself and setup-uv is uv
on PATH; any other action is refused, so a new one gets an emulation here.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml
from uv import find_uv_bin


@dataclass(frozen=True)
class Loopback:
    """A loopback server that stands in for a service container, and its account."""

    port: int
    userinfo: str = ""  # user[:password], or nothing

    def netloc(self) -> str:
        return (
            f"{self.userinfo}@127.0.0.1:{self.port}" if self.userinfo else f"127.0.0.1:{self.port}"
        )


# By image repository: the servers .ci/run keeps on loopback.
LOOPBACK = {
    "postgres": Loopback(5432, "postgres"),
    "mariadb": Loopback(3306, "root"),
    "edoburu/pgbouncer": Loopback(6432, "postgres"),
    "redis": Loopback(6379),
    "rabbitmq": Loopback(5672, "guest:guest"),
}
# Actions a job may use: what each stands for here.
KNOWN_ACTIONS = {
    "actions/checkout": "the project is the checkout",
    "astral-sh/setup-uv": "uv is on PATH",
}
URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'`]+")


def loopback_for(image: str) -> Loopback:
    repository = image.rsplit(":", 1)[0] if ":" in image.split("/")[-1] else image
    repository = repository.removeprefix("docker.io/").removeprefix("library/")
    if repository not in LOOPBACK:
        raise ValueError(f"no loopback server stands in for the image {image}")
    return LOOPBACK[repository]


def rewrite_urls(value: str, servers: Mapping[tuple[str, int], Loopback]) -> str:
    """Point every URL in ``value`` whose host and port are a container's at its loopback server."""

    def replace(match: re.Match[str]) -> str:
        url = urlsplit(match.group(0))
        try:
            key = (url.hostname or "", url.port or 0)
        except ValueError:  # not a port: not a server URL
            return match.group(0)
        if key not in servers:
            return match.group(0)
        return urlunsplit(url._replace(netloc=servers[key].netloc()))

    return URL.sub(replace, value)


@dataclass
class Step:
    """One command of a job: a `run:` step, or a GitLab job's script as one shell."""

    name: str
    run: str
    env: dict[str, str] = field(default_factory=dict)
    condition: str = ""
    id: str = ""
    working_directory: str = ""
    uses: str = ""


@dataclass
class StepResult:
    name: str
    returncode: int
    output: str
    skipped: bool = False


@dataclass
class Job:
    """A CI job, its services mapped onto loopback, ready to run in a checkout."""

    provider: str  # github | gitlab
    name: str
    services: dict[str, str]  # container name -> image
    servers: dict[tuple[str, int], Loopback]
    env: dict[str, str]
    steps: list[Step]
    shell: list[str]

    def mapped_env(self) -> dict[str, str]:
        return {key: rewrite_urls(value, self.servers) for key, value in self.env.items()}

    def run(
        self,
        checkout: Path,
        base_env: Mapping[str, str],
        *,
        until: str | None = None,
        secrets: Mapping[str, str] | None = None,
        temp: Path | None = None,
        timeout: float = 900,
    ) -> list[StepResult]:
        """Run the steps in order, before the one named ``until``; stop at the first failure.

        ``temp`` is the runner's temporary directory (RUNNER_TEMP, CI_BUILDS_DIR),
        kept for the caller to read when given.
        """
        if temp is not None:
            return self._run(checkout, base_env, until, secrets or {}, temp, timeout)
        with tempfile.TemporaryDirectory(prefix="runner-") as scratch:
            return self._run(checkout, base_env, until, secrets or {}, Path(scratch), timeout)

    def _run(
        self,
        checkout: Path,
        base_env: Mapping[str, str],
        until: str | None,
        secrets: Mapping[str, str],
        temp: Path,
        timeout: float,
    ) -> list[StepResult]:
        results: list[StepResult] = []
        outputs: dict[str, dict[str, str]] = {}
        env = {
            **{k: v for k, v in base_env.items() if not k.startswith("TEST_")},
            **provider_env(self.provider, checkout, temp),
        }
        env.update(self.mapped_env())
        for index, step in enumerate(self.steps):
            if until is not None and step.name == until:
                break
            context = Context(outputs, env, dict(secrets), temp)
            if step.condition and not truthy(context.evaluate(step.condition)):
                results.append(StepResult(step.name, 0, "", skipped=True))
                continue
            if step.uses:
                results.append(StepResult(step.name, 0, KNOWN_ACTIONS[action(step.uses)]))
                continue
            output_file = temp / f"output-{index}"
            env_file = temp / f"env-{index}"
            output_file.touch()
            env_file.touch()
            step_env = {
                **env,
                **{
                    key: rewrite_urls(context.substitute(value), self.servers)
                    for key, value in step.env.items()
                },
                "GITHUB_OUTPUT": str(output_file),
                "GITHUB_ENV": str(env_file),
            }
            script = temp / f"step-{index}.sh"
            script.write_text(context.substitute(step.run))
            cwd = checkout / context.substitute(step.working_directory)
            completed = subprocess.run(
                [*self.shell, str(script)],
                cwd=cwd,
                env=step_env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            results.append(
                StepResult(step.name, completed.returncode, completed.stdout + completed.stderr)
            )
            if completed.returncode != 0:
                break
            if step.id:
                outputs[step.id] = key_values(output_file.read_text())
            env.update(key_values(env_file.read_text()))
        return results


def failed(results: list[StepResult]) -> str:
    """The failing step and its output, or "" when every step passed."""
    return next(
        (f"step {r.name!r} exited {r.returncode}:\n{r.output}" for r in results if r.returncode),
        "",
    )


def key_values(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT / $GITHUB_ENV lines: name=value (the heredoc form is not used here)."""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def action(uses: str) -> str:
    name = uses.split("@", 1)[0]
    if name not in KNOWN_ACTIONS:
        raise ValueError(f"{uses}: the runner has no emulation of this action")
    return name


def provider_env(provider: str, checkout: Path, temp: Path) -> dict[str, str]:
    """What the hosted runner sets for every step (the parts these jobs read)."""
    common = {"CI": "true"}
    if provider == "github":
        return {
            **common,
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(checkout),
            "GITHUB_REPOSITORY": "team/service",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REF_NAME": "main",
            "RUNNER_TEMP": str(temp),
        }
    return {
        **common,
        "GITLAB_CI": "true",
        "CI_BUILDS_DIR": str(temp),
        "CI_PROJECT_DIR": str(checkout),
        "CI_DEFAULT_BRANCH": "main",
        "CI_SERVER_HOST": "gitlab.example.com",
        "CI_PROJECT_PATH": "team/service",
        "CI_PIPELINE_SOURCE": "schedule",
    }


# ---------------------------------------------------------------------------
# GitHub's ${{ }} expressions: the subset these workflows use
# ---------------------------------------------------------------------------
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
TOKEN = re.compile(r"\s*(\|\||&&|==|!=|'(?:[^']|'')*'|[A-Za-z_][A-Za-z0-9_.-]*)")


@dataclass
class Context:
    outputs: dict[str, dict[str, str]]
    env: dict[str, str]
    secrets: dict[str, str]
    temp: Path

    def lookup(self, name: str) -> str:
        parts = name.split(".")
        if name in ("true", "false"):
            return "true" if name == "true" else ""
        if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
            return self.outputs.get(parts[1], {}).get(parts[3], "")
        if parts[0] == "secrets":
            return self.secrets.get(parts[1], "")
        if name == "github.token":
            return "token-of-the-job"
        if name == "runner.temp":
            return str(self.temp)
        if parts[0] == "env":
            return self.env.get(parts[1], "")
        raise ValueError(f"the runner cannot evaluate {name!r}")

    def evaluate(self, expression: str) -> str:
        """``a == 'b'``, ``a != 'b'``, ``a && b``, ``a || b`` over contexts and literals."""
        tokens = TOKEN.findall(expression.strip())
        if "".join(tokens).replace(" ", "") != expression.replace(" ", ""):
            raise ValueError(f"the runner cannot parse {expression!r}")

        def value(token: str) -> str:
            if token.startswith("'"):
                return token[1:-1].replace("''", "'")
            return self.lookup(token)

        def comparison(items: list[str]) -> str:
            if len(items) == 1:
                return value(items[0])
            left, operator, right = items
            equal = value(left) == value(right)
            return "true" if equal == (operator == "==") else ""

        def split(items: list[str], operator: str) -> list[list[str]]:
            groups: list[list[str]] = [[]]
            for item in items:
                if item == operator:
                    groups.append([])
                else:
                    groups[-1].append(item)
            return groups

        result = ""
        for alternative in split(tokens, "||"):
            result = ""
            for conjunct in split(alternative, "&&"):
                result = comparison(conjunct)
                if not truthy(result):
                    break
            if truthy(result):
                return result
        return result

    def substitute(self, text: str) -> str:
        return EXPRESSION.sub(lambda match: self.evaluate(match.group(1)), text)


def truthy(value: str) -> bool:
    return value not in ("", "false", "0")


# ---------------------------------------------------------------------------
# Reading the CI files
# ---------------------------------------------------------------------------
def github_job(workflow: Path, name: str) -> Job:
    document = yaml.safe_load(workflow.read_text())
    job = document["jobs"][name]
    services: dict[str, str] = {}
    servers: dict[tuple[str, int], Loopback] = {}
    for service, spec in (job.get("services") or {}).items():
        server = loopback_for(spec["image"])
        services[service] = spec["image"]
        for mapping in spec.get("ports", []):
            published, _, container = str(mapping).partition(":")
            # The job runs on the host: a published port is on localhost.
            for host in ("localhost", "127.0.0.1"):
                servers[(host, int(published))] = server
            # Other containers reach the service by its name.
            servers[(service, int(container or published))] = server
    steps = [
        Step(
            name=step.get("name") or step.get("run", step.get("uses", "")).splitlines()[0],
            run=step.get("run", ""),
            env={key: str(value) for key, value in (step.get("env") or {}).items()},
            condition=str(step.get("if", "")),
            id=step.get("id", ""),
            working_directory=step.get("working-directory", ""),
            uses=step.get("uses", ""),
        )
        for step in job["steps"]
    ]
    env = {key: str(value) for key, value in (document.get("env") or {}).items()}
    env |= {key: str(value) for key, value in (job.get("env") or {}).items()}
    # An unspecified shell on Linux runners: `bash -e {0}`.
    return Job("github", name, services, servers, env, steps, ["bash", "-e"])


def gitlab_job(ci_file: Path, name: str) -> Job:
    document = yaml.safe_load(ci_file.read_text())
    job = document[name]
    services: dict[str, str] = {}
    servers: dict[tuple[str, int], Loopback] = {}
    for service in job.get("services") or []:
        spec: dict[str, Any] = service if isinstance(service, dict) else {"name": service}
        image = spec["name"]
        alias = spec.get("alias") or image.split(":")[0].replace("/", "-")
        server = loopback_for(image)
        services[alias] = image
        # The job's container reaches a service by its alias, on the port it serves.
        servers[(alias, server.port)] = server
    env = {key: str(value) for key, value in (document.get("variables") or {}).items()}
    env |= {key: str(value) for key, value in (job.get("variables") or {}).items()}
    if "UV_CACHE_DIR" in env:
        # The job's cache (cache:paths), restored: this machine's uv cache.
        env["UV_CACHE_DIR"] = shared_uv_cache()
    # GitLab runs before_script and script as one shell session.
    lines = [*(job.get("before_script") or []), *job["script"]]
    step = Step(name=name, run="\n".join(lines) + "\n")
    return Job("gitlab", name, services, servers, env, [step], ["bash", "-eo", "pipefail"])


def shared_uv_cache() -> str:
    return subprocess.run(
        [find_uv_bin(), "cache", "dir"], capture_output=True, text=True, check=True
    ).stdout.strip()
