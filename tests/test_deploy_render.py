"""``gitml deploy render``: manifests the cluster's own schemas accept, a Dockerfile hadolint
passes, golden bytes for the example's production stage, and one-line refusals.

No docker engine and no cluster exist here: Kubernetes objects are checked with
``kubernetes-validate --strict`` against the schemas of a pinned Kubernetes version, the
InferenceService against KServe's published CRD schema (tests/schemas/kserve/), and the
Dockerfile with hadolint.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest
import yaml

from gitml import api
from gitml.config import config_from_text
from gitml.deploy.context import requirements_text
from gitml.deploy.quantity import parse_quantity
from gitml.deploy.release import Release
from gitml.deploy.render import render
from gitml.errors import ConfigError, UsageError
from tests.helpers import git, gitml

if TYPE_CHECKING:
    from tests.conftest import Clock

KUBERNETES_VERSION = "1.37"
HERE = Path(__file__).parent
GOLDEN = HERE / "golden" / "deploy"
KSERVE_SCHEMA = HERE / "schemas" / "kserve" / "inferenceservice-v1beta1.schema.json"
BIN = Path(sys.executable).parent
DIGEST = "sha256:" + "0123456789abcdef" * 4
DEPLOY = f"""
deploy:
  base_image: python:3.11-slim@{DIGEST}
  image: ghcr.io/acme/credit
  namespace: ml
  replicas: 2
  resources:
    requests: {{cpu: 250m, memory: 512Mi}}
    limits: {{cpu: 1, memory: 1Gi}}
  stages:
    production: {{replicas: 3, max_replicas: 9, resources: {{limits: {{memory: 2Gi}}}}}}
canary:
  production:
    percent: 20
    rules:
      error_rate: {{max_increase: 0.01}}
"""
STAGES = "stages: [staging, production]\n"
RELEASE = Release(
    model="credit",
    version="v0.1.0",
    md5="0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    commit="c0ffee" * 6 + "c0ff",
    tag="credit@v0.1.0",
    artifact="models/credit.skops",
    stage="production",
)
COMMIT_PLACEHOLDER = "<commit of credit@v0.1.0>"
LABEL_VALUE = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?")


def _config(extra: str = DEPLOY, *, validate: bool = True) -> Any:
    return config_from_text(STAGES + "models: {}\n" + extra, validate=validate)


def _write(files: dict[str, str], directory: Path) -> Path:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return directory


def _rendered(target: str, tmp_path: Path) -> Path:
    config = _config()
    files = render(RELEASE, config.deploy("production"), target, config.canary("production"))
    return _write(dict(files.files), tmp_path / target)


def _documents(directory: Path) -> list[dict[str, Any]]:
    return [yaml.safe_load(path.read_text()) for path in sorted(directory.rglob("*.yaml"))]


def _kubernetes_validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "kubernetes-validate"), "--strict", "-k", KUBERNETES_VERSION, *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_kubernetes_manifests_validate_strictly(tmp_path: Path) -> None:
    directory = _rendered("kubernetes", tmp_path)
    manifests = sorted((directory / "kubernetes").glob("*.yaml"))
    assert [p.name for p in manifests] == [
        "deployment.yaml",
        "hpa.yaml",
        "pdb.yaml",
        "service.yaml",
    ]
    result = _kubernetes_validate(*manifests)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed for resource") == 4
    # The check is strict: one unknown field fails it.
    deployment = yaml.safe_load(manifests[0].read_text())
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(deployment))
    assert _kubernetes_validate(broken).returncode != 0


def _closed(schema: Any) -> Any:
    """The CRD schema as the API server's strict field validation reads it: an object that
    lists its properties and does not preserve unknown fields accepts no others."""
    if isinstance(schema, dict):
        schema = {key: _closed(value) for key, value in schema.items()}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    return schema


@pytest.fixture(scope="module")
def kserve_validator() -> jsonschema.protocols.Validator:
    schema = _closed(json.loads(KSERVE_SCHEMA.read_text()))
    validator_class = jsonschema.validators.validator_for(schema, jsonschema.Draft7Validator)
    validator_class.check_schema(schema)
    return validator_class(schema)


def test_inference_service_validates_against_the_kserve_crd(
    tmp_path: Path, kserve_validator: jsonschema.protocols.Validator
) -> None:
    directory = _rendered("kserve", tmp_path)
    (document,) = _documents(directory / "kserve")
    errors = [e.message for e in kserve_validator.iter_errors(document)]
    assert errors == []
    predictor = document["spec"]["predictor"]
    assert predictor["canaryTrafficPercent"] == 20  # canary.production.percent
    assert predictor["containers"][0]["image"] == "ghcr.io/acme/credit:credit-v0.1.0"
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (3, 9)
    # The check sees unknown fields and wrong types.
    broken = copy.deepcopy(document)
    broken["spec"]["predictor"]["canaryTrafficPercentage"] = 20
    assert list(kserve_validator.iter_errors(broken))
    broken = copy.deepcopy(document)
    broken["spec"]["predictor"]["minReplicas"] = "three"
    assert list(kserve_validator.iter_errors(broken))


def test_a_log_claim_gives_each_pod_its_own_log_on_the_shared_volume(
    tmp_path: Path, kserve_validator: jsonschema.protocols.Validator
) -> None:
    """deploy.log_claim: every pod appends to predictions-<pod>.jsonl on one claim, the
    folder `gitml drift --data DIR` reads (a stage may name its own claim)."""
    from gitml.cli.main import build_parser
    from gitml.deploy.context import serve_command
    from gitml.serve.prediction_log import log_path_for_host

    extra = DEPLOY.replace(
        "  namespace: ml\n", "  namespace: ml\n  log_claim: gitml-logs\n"
    ).replace("production: {replicas: 3,", "production: {log_claim: prod.logs, replicas: 3,")
    config = _config(extra)
    for stage, claim in (("staging", "gitml-logs"), ("production", "prod.logs")):
        release = Release(**{**RELEASE.__dict__, "stage": stage})
        settings = config.deploy(stage)
        kube = render(release, settings, "kubernetes", None).files
        directory = _write(dict(kube), tmp_path / stage)
        result = _kubernetes_validate(*sorted((directory / "kubernetes").glob("*.yaml")))
        assert result.returncode == 0, result.stdout + result.stderr
        pod = yaml.safe_load(kube["kubernetes/deployment.yaml"])["spec"]["template"]["spec"]
        served = render(release, settings, "kserve", config.canary(stage)).files
        predictor = yaml.safe_load(served["kserve/inferenceservice.yaml"])["spec"]["predictor"]
        assert list(kserve_validator.iter_errors({"apiVersion": "serving.kserve.io/v1beta1",
            "kind": "InferenceService", "metadata": {"name": "x"},
            "spec": {"predictor": predictor}})) == []  # fmt: skip
        for spec in (pod, predictor):
            (served_container,) = spec["containers"]
            assert served_container["args"] == ["--log", "/var/log/gitml/predictions-{host}.jsonl"]
            assert {"mountPath": "/var/log/gitml", "name": "prediction-logs"} in (
                served_container["volumeMounts"]
            )
            assert {"name": "prediction-logs", "persistentVolumeClaim": {"claimName": claim}} in (
                spec["volumes"]
            )
        # The image's entrypoint followed by these arguments is a gitml serve command line
        # whose log, in a pod, is named after the pod.
        words = serve_command(release, settings)[1:] + pod["containers"][0]["args"]
        parsed = build_parser().parse_args(words)
        pod_log = log_path_for_host(parsed.log_path, "credit-production-7d9f8-x2x4q")
        assert str(pod_log) == "/var/log/gitml/predictions-credit-production-7d9f8-x2x4q.jsonl"
    # Without a claim nothing is mounted and nothing is logged (the default, as before).
    plain = yaml.safe_load(render(RELEASE, _config().deploy("production"), "kubernetes").files[
        "kubernetes/deployment.yaml"])  # fmt: skip
    assert "args" not in plain["spec"]["template"]["spec"]["containers"][0]


def test_a_stage_without_canary_policy_has_no_traffic_split(tmp_path: Path) -> None:
    config = _config()
    staging = Release(**{**RELEASE.__dict__, "stage": "staging"})
    rendered = render(staging, config.deploy("staging"), "kserve", config.canary("staging"))
    document = yaml.safe_load(rendered.files["kserve/inferenceservice.yaml"])
    assert "canaryTrafficPercent" not in document["spec"]["predictor"]
    assert document["metadata"]["name"] == "credit-staging"


def test_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    directory = _rendered("kubernetes", tmp_path)
    result = subprocess.run(
        [str(BIN / "hadolint"), "--no-color", "--failure-threshold", "warning", "-f", "json",
         str(directory / "Dockerfile")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    findings = json.loads(result.stdout or "[]")
    assert [f for f in findings if f["level"] not in ("info", "style")] == []
    assert result.returncode == 0, result.stdout + result.stderr
    # hadolint does flag what it should here (the check is live).
    bad = tmp_path / "Bad.Dockerfile"
    bad.write_text("FROM python:3.11\nRUN pip install flask\n")
    flagged = subprocess.run(
        [str(BIN / "hadolint"), "--no-color", "-f", "json", str(bad)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert {f["code"] for f in json.loads(flagged.stdout)} >= {"DL3013", "DL3042"}


def test_dockerfile_is_pinned_unprivileged_and_checks_the_artefact(tmp_path: Path) -> None:
    text = (_rendered("kubernetes", tmp_path) / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines[0] == f"FROM python:3.11-slim@{DIGEST}"
    assert "USER 10001:10001" in lines
    entrypoint = json.loads(next(x for x in lines if x.startswith("ENTRYPOINT "))[11:])
    assert entrypoint[:3] == ["gitml", "serve", "credit@v0.1.0"]
    assert entrypoint[-4:] == ["--host", "0.0.0.0", "--port", "8080"]
    assert "RUN md5sum --check --strict model.md5" in lines
    md5_line = (tmp_path / "kubernetes" / "model.md5").read_text()
    assert md5_line == f"{RELEASE.md5}  model/credit.skops\n"
    assert any("--require-hashes" in x for x in lines)
    ignore = (tmp_path / "kubernetes" / ".dockerignore").read_text().splitlines()
    assert ignore[1] == "*"  # everything out, then only what is copied back in


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (HERE.parent / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    return pins


def test_requirements_are_hashed_minimal_and_match_the_constraints() -> None:
    pins = _constraints()
    locked = {}
    for line in requirements_text().splitlines():
        if line.startswith("#"):
            continue
        requirement, _, digest = line.partition(" --hash=sha256:")
        assert re.fullmatch(r"[0-9a-f]{64}", digest), line
        name, version = requirement.split("==")
        locked[name] = version
    assert locked == {name: pins[name] for name in locked}  # the project's own pins
    # What `gitml serve` imports and what those need, and nothing of DVC, git or training.
    assert {"starlette", "uvicorn", "scikit-learn", "skops", "numpy", "pandas"} <= set(locked)
    assert not {"dvc", "gto", "fairlearn", "pytest", "requests"} & set(locked)


def test_every_object_names_model_version_md5_and_tag(tmp_path: Path) -> None:
    documents = _documents(_rendered("kubernetes", tmp_path)) + _documents(
        _rendered("kserve", tmp_path)
    )
    assert len(documents) == 5
    for document in documents:
        metadata = document["metadata"]
        for value in metadata["labels"].values():
            assert LABEL_VALUE.fullmatch(value), value
            assert len(value) <= 63, value
        assert metadata["labels"]["gitml.dev/model"] == "credit"
        assert metadata["labels"]["gitml.dev/version"] == "v0.1.0"
        assert metadata["annotations"]["gitml.dev/md5"] == RELEASE.md5
        assert metadata["annotations"]["gitml.dev/registry-tag"] == "credit@v0.1.0"
        assert metadata["annotations"]["gitml.dev/commit"] == RELEASE.commit


def test_pods_are_probed_on_health_and_locked_down(tmp_path: Path) -> None:
    deployment = yaml.safe_load(
        (_rendered("kubernetes", tmp_path) / "kubernetes" / "deployment.yaml").read_text()
    )
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    # deploy.stages.production.resources.limits.memory over deploy.resources.
    assert container["resources"] == {
        "limits": {"cpu": "1", "memory": "2Gi"},
        "requests": {"cpu": "250m", "memory": "512Mi"},
    }
    assert "replicas" not in deployment["spec"]  # the autoscaler owns it


def test_rendering_is_deterministic() -> None:
    config = _config()
    first = render(RELEASE, config.deploy("production"), "kubernetes").files
    reordered = _config(
        DEPLOY.replace("  namespace: ml\n  replicas: 2\n", "  replicas: 2\n  namespace: ml\n")
    )
    assert render(RELEASE, reordered.deploy("production"), "kubernetes").files == first


@pytest.mark.parametrize(
    ("setting", "key"),
    [
        ("resources: {requests: {cpu: 500x}}", "deploy.resources.requests.cpu"),
        ("resources: {limits: {memory: -1Gi}}", "deploy.resources.limits.memory"),
        ("resources: {limits: {memory: 1.5.3Gi}}", "deploy.resources.limits.memory"),
        ("resources: {requests: {memory: 1 Gi}}", "deploy.resources.requests.memory"),
        ("resources: {requests: {cpu: true}}", "deploy.resources.requests.cpu"),
        ("resources: {requests: {cpu: '2'}, limits: {cpu: 1500m}}",
         "deploy.resources.requests.cpu"),
        ("resources: {requests: {gpu: 1}}", "deploy.resources.requests"),
        ("base_image: python:3.11-slim", "deploy.base_image"),
        ("base_image: python@sha256:abc", "deploy.base_image"),
        ("image: ghcr.io/acme/credit:latest", "deploy.image"),
        ("namespace: Machine_Learning", "deploy.namespace"),
        ("replicas: 0", "deploy.replicas"),
        ("port: 80", "deploy.port"),
        ("stages: {production: {resources: {limits: {cpu: 1e}}}}",
         "deploy.stages.production.resources.limits.cpu"),
        ("stages: {canary: {replicas: 2}}", "deploy.stages.canary"),
        ("targets: [helm]", "deploy.targets"),
        ("log_claim: Prediction_Logs", "deploy.log_claim"),
        ("stages: {production: {log_claim: 'a b'}}", "deploy.stages.production.log_claim"),
        ("targets: []", "deploy.targets"),
        ("targets: [kserve, kserve]", "deploy.targets"),
        ("targets: kubernetes", "deploy.targets"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("validate", [True, False], ids=["schema", "parser"])
def test_bad_deploy_settings_are_one_line_naming_the_key(
    setting: str, key: str, validate: bool
) -> None:
    with pytest.raises(ConfigError) as caught:
        _config(f"deploy:\n  {setting}\n", validate=validate).deploy("production")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("gitml.yaml")
    assert key in message or key.replace("deploy.", "deploy/").replace(".", "/") in message


def test_targets_and_the_directory_per_model() -> None:
    config = _config(
        DEPLOY.replace(
            "  namespace: ml",
            "  namespace: ml\n  directory: k8s/{stage}/{model}\n  targets: [kserve]",
        )
    )
    settings = config.deploy("production")
    assert settings.targets == ("kserve",)
    assert settings.directory_of("credit") == "k8s/production/credit"
    assert _config().deploy("staging").targets == ("kubernetes",)  # the default


def test_missing_base_image_or_image_is_named_when_rendering() -> None:
    config = _config("deploy: {image: ghcr.io/acme/credit}\n")
    with pytest.raises(ConfigError, match=r"deploy\.base_image: expected .*pinned by digest"):
        config.deploy("production")
    config = _config(f"deploy: {{base_image: 'python:3.11-slim@{DIGEST}'}}\n")
    with pytest.raises(ConfigError, match=r"deploy\.image: expected"):
        config.deploy("production")


@pytest.mark.parametrize("percent", [150, -5, 0, 100])
def test_canary_percent_outside_0_100_names_the_key(percent: int) -> None:
    text = DEPLOY.replace("percent: 20", f"percent: {percent}")
    with pytest.raises(ConfigError) as caught:
        _config(text, validate=False)
    assert "canary.production.percent" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_fractional_canary_share_is_refused_for_kserve() -> None:
    config = _config(DEPLOY.replace("percent: 20", "percent: 12.5"))
    with pytest.raises(ConfigError, match=r"gitml.yaml: canary\.production\.percent: .*whole"):
        render(RELEASE, config.deploy("production"), "kserve", config.canary("production"))
    # The kubernetes target has no traffic split, so the share does not matter there.
    render(RELEASE, config.deploy("production"), "kubernetes", config.canary("production"))


def test_unknown_target_is_refused() -> None:
    config = _config()
    with pytest.raises(
        UsageError, match=r"--target: unknown target 'helm' \(targets: kubernetes, kserve\)"
    ):
        render(RELEASE, config.deploy("production"), "helm")


@pytest.mark.parametrize(
    ("text", "value"),
    [("500m", "0.5"), ("1", "1"), ("512Mi", str(512 * 2**20)), ("1e3", "1000"), (".5", "0.5"),
     ("1Ki", "1024"), ("2k", "2000"), ("100n", "1.00E-7")],
)  # fmt: skip
def test_quantities_parse_as_kubernetes_reads_them(text: str, value: str) -> None:
    parsed = parse_quantity(text)
    assert parsed is not None
    assert parsed == type(parsed)(value)


@pytest.mark.parametrize("text", ["", "m", "1mi", "1MB", "1.2.3", "0x10", "1 Gi", "Gi", "1e"])
def test_quantities_kubernetes_rejects_do_not_parse(text: str) -> None:
    assert parse_quantity(text) is None


# --- the example repository: the CLI, on a recorded production stage -----------------------


def _production(
    repo: Path, clock: Clock, stages: tuple[str, ...] = ("staging", "production")
) -> None:
    """v0.1.0 registered with the example's deploy settings, recorded in ``stages``."""
    api.register(root=repo, push=True)
    for stage in stages:
        clock.tick()
        api.promote("credit", stage, root=repo, push=True)
        clock.tick()
        (outcome,) = api.promote_on_push(stage, root=repo)
        assert outcome.status == "recorded", outcome.reason


def _branch_files(repo: Path, branch: str, directory: str) -> dict[str, str]:
    names = git(repo, "ls-tree", "-r", "--name-only", branch, "--", directory).stdout.split()
    return {
        name.removeprefix(directory + "/"): git(repo, "show", f"{branch}:{name}").stdout
        for name in names
    }


def test_cli_renders_the_production_stage_as_golden(
    origin_repo: Path, clock: Clock, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    _production(origin_repo, clock)
    # What each stage branch carries (gitml promote put it there) is the golden stage.
    commit = git(origin_repo, "rev-parse", "credit@v0.1.0^{commit}").stdout.strip()
    for stage in ("staging", "production"):
        carried = _branch_files(origin_repo, stage, f"deploy/{stage}")
        assert sorted(carried) == [
            ".dockerignore", "Dockerfile", "kserve/inferenceservice.yaml",
            "kubernetes/deployment.yaml", "kubernetes/hpa.yaml", "kubernetes/pdb.yaml",
            "kubernetes/service.yaml", "model.md5", "requirements.txt",
        ]  # fmt: skip
        for name, carried_text in sorted(carried.items()):
            golden = GOLDEN / stage / name
            # The template's commits carry the session's date; the golden files hold a
            # placeholder for the version's commit, the one its registry tag points at.
            text = carried_text.replace(commit, COMMIT_PLACEHOLDER)
            if request.config.getoption("--update-golden"):
                golden.parent.mkdir(parents=True, exist_ok=True)
                golden.write_text(text)
            assert golden.exists(), f"{golden} missing: run with --update-golden"
            assert text == golden.read_text(), f"{golden} differs (review, then --update-golden)"
    assert f"gitml.dev/commit: {commit}" in carried["kubernetes/deployment.yaml"]
    # `gitml deploy render` writes the same bytes the branch carries, for each target.
    result = gitml(origin_repo, "deploy", "render", "credit@production", "--target", "kubernetes")
    assert result.stdout.splitlines()[0] == (
        "credit@production: v0.1.0 as ghcr.io/acme/credit:credit-v0.1.0"
    )
    out = tmp_path / "kserve-out"
    result = gitml(
        origin_repo, "deploy", "render", "credit@production", "--target", "kserve", "-o", str(out)
    )
    assert "canary" not in result.stdout  # the example has no canary policy
    default_dir = origin_repo / "deploy" / "production"
    rendered = {
        **{str(p.relative_to(default_dir)): p for p in default_dir.rglob("*") if p.is_file()},
        **{str(p.relative_to(out)): p for p in out.rglob("*") if p.is_file()},
    }
    assert {name: path.read_text() for name, path in rendered.items()} == carried


def test_cli_refusals_are_one_line(origin_repo: Path, clock: Clock, tmp_path: Path) -> None:
    _production(origin_repo, clock, ("production",))
    result = gitml(
        origin_repo, "deploy", "render", "credit@production", "--target", "helm", check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "unknown target 'helm'" in result.stderr
    result = gitml(
        origin_repo, "deploy", "render", "credit@staging", "--target", "kubernetes", check=False
    )
    assert result.returncode != 0
    assert "no version of credit is recorded in staging" in result.stderr
    # A link where a rendered file would go is never written through.
    out = tmp_path / "out"
    (out / "kubernetes").mkdir(parents=True)
    victim = tmp_path / "victim.yaml"
    victim.write_text("untouched\n")
    (out / "kubernetes" / "service.yaml").symlink_to(victim)
    result = gitml(
        origin_repo, "deploy", "render", "credit@production", "--target", "kubernetes",
        "-o", str(out), check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "symbolic link" in result.stderr
    assert victim.read_text() == "untouched\n"
    assert not (out / "Dockerfile").exists()  # refused before the first byte was written


@pytest.mark.parametrize("stage", ["staging", "production"])
def test_golden_files_pass_the_same_checks(
    kserve_validator: jsonschema.protocols.Validator, stage: str
) -> None:
    """What the example's stage branches carry (the golden files) is valid and lint-clean."""
    golden = GOLDEN / stage
    result = _kubernetes_validate(*sorted((golden / "kubernetes").glob("*.yaml")))
    assert result.returncode == 0, result.stdout + result.stderr
    (document,) = _documents(golden / "kserve")
    assert [e.message for e in kserve_validator.iter_errors(document)] == []
    linted = subprocess.run(
        [str(BIN / "hadolint"), "--no-color", "--failure-threshold", "warning",
         str(golden / "Dockerfile")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert linted.returncode == 0, linted.stdout + linted.stderr
