"""Gathering the facts of one version into a :class:`~gitml.dossier.model.Dossier`.

Every fact is read from git as the refs are now: the version's registration tag and the
files at its registered commit (``gitml.yaml``, ``dvc.lock``, params, metrics, the model
card, the fairness report), through the registry reader's one ``cat-file --batch``. The
configuration used is the one *at the registered commit*, so the dossier of an old
version describes it by its own rules. Facts only a person can write come from the model
card; the ones it lacks are listed as missing, never filled in.
"""

from __future__ import annotations

import json
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from gitml.dossier import fairness as fair
from gitml.dossier.changes import changed, changed_stages
from gitml.dossier.gates import gate_facts
from gitml.dossier.model import (
    HUMAN_FIELDS,
    Changes,
    DataGovernance,
    DataSet,
    Development,
    Digest,
    Dossier,
    Fairness,
    General,
    Metric,
    Metrics,
    Missing,
    Monitoring,
    Oversight,
    Param,
    PipelineStage,
    Proof,
)
from gitml.dossier.monitoring import (
    drift_evidence,
    recorded_canaries,
    recorded_checks,
    source,
    thresholds,
)
from gitml.dossier.oversight import decisions, holds
from gitml.dossier.sources import GitSources
from gitml.errors import RegistryError
from gitml.files import CONFIG_FILE
from gitml.registry.model_ref import parse_ref
from gitml.registry.names import version_precedence
from gitml.registry.observation import ObservationKind
from gitml.registry.observations import read_observations
from gitml.registry.reader import RegistryReader
from gitml.report.values import flatten

if TYPE_CHECKING:
    from pathlib import Path

    from gitml.config import Config, ModelConfig
    from gitml.dossier.model import Value
    from gitml.registry.records import VersionInfo
    from gitml.registry.state import ModelState, VersionState

DVC_LOCK = "dvc.lock"


def build_dossier(root: Path | str, text: str, *, local: bool = False) -> Dossier:
    """The dossier of the version ``text`` names (``credit@v0.2.0``, ``credit@production``)."""
    ref = parse_ref(text)
    with RegistryReader(root, local=local) as reader:
        info = reader.resolve(ref)
        if not info.registered:
            raise RegistryError(
                f"{ref}: holds commit {info.commit[:12]}, which no version tag registered; a "
                "dossier documents a registered version (run `gitml register`)"
            )
        state = reader.model_state(info.model)
        return _Gatherer(reader, state, state.versions[info.version], info).dossier()


def _as_value(value: Any) -> Value:
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


def _text(value: Any) -> str | None:
    """A card's free-text field: a string, or a list of strings joined (None when empty)."""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value if v not in (None, ""))
    return str(value) if value not in (None, "") else None


def _mapping(value: Any) -> dict[str, Any]:
    """A document's mapping, or an empty one when the file holds another shape there."""
    return value if isinstance(value, dict) else {}


def _lines(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value if v not in (None, ""))
    return (str(value),) if value not in (None, "") else ()


class _Gatherer:
    """The facts of one version; each section is one method."""

    def __init__(
        self, reader: RegistryReader, state: ModelState, version: VersionState, info: VersionInfo
    ):
        self.reader = reader
        self.state = state
        self.version = version
        self.info = info
        self.sources = GitSources(reader)
        self.commit = version.commit
        self.record = version.record
        self.config = self._config_at(self.commit) or reader.config
        found = self.config.models.get(info.model) if self.config else None
        self.model: ModelConfig | None = found
        card = self.sources.document(self.commit, found.card if found else None)
        self.card: dict[str, Any] = card if isinstance(card, dict) else {}
        self.registration = self.sources.tag(info.tag)
        self.decisions = decisions(self.sources, version)

    def _config_at(self, commit: str) -> Config | None:
        from gitml.dvcio.project import project_from_reader
        from gitml.zero_config import effective_config

        def read(path: str) -> bytes | None:
            return self.sources.read(commit, path)

        data = read(CONFIG_FILE)
        text = data.decode("utf-8", "replace") if data is not None else None
        project = project_from_reader(read, commit[:12])
        return effective_config(text, project, f"{CONFIG_FILE} at {commit[:12]}", validate=False)

    # -- reading at a commit ---------------------------------------------------------

    def _lock(self, commit: str) -> dict[str, Any]:
        document = self.sources.document(commit, DVC_LOCK)
        stages = document.get("stages") if isinstance(document, dict) else None
        return stages if isinstance(stages, dict) else {}

    def _metrics_at(self, commit: str) -> dict[str, tuple[Value, Proof | None]]:
        found: dict[str, tuple[Value, Proof | None]] = {}
        files = (*self.model.metrics, *self.model.operational_metrics) if self.model else ()
        for file in dict.fromkeys(files):
            document = self.sources.document(commit, file)
            proof = self.sources.blob(commit, file)
            if isinstance(document, dict):
                for name, value in flatten(document).items():
                    found[name] = (_as_value(value), proof)
        return found

    def _params_file(self) -> str:
        return (self.config.params_file if self.config else None) or "params.yaml"

    def _params_at(self, commit: str) -> dict[str, Value]:
        document = self.sources.document(commit, self._params_file())
        if not isinstance(document, dict):
            return {}
        return {name: json.dumps(value) for name, value in flatten(document).items()}

    def _inputs_at(self, commit: str, record_inputs: Any, tag: Proof | None) -> tuple[Digest, ...]:
        """DVC data inputs: as the registration records them, else as ``dvc.lock`` and the
        ``.dvc`` files at ``commit`` say (:mod:`gitml.registry.lineage`)."""
        if record_inputs and tag is not None:
            return tuple(
                Digest(path, md5, Proof("md5", md5, tag.object, tag.label))
                for path, md5 in sorted(record_inputs.items())
            )
        from gitml.registry.lineage_read import derive_lineage

        artifact = self.info.artifact
        found = derive_lineage(self.reader, commit, artifact).lineage.inputs if artifact else {}
        return tuple(
            Digest(path, md5, self.sources.md5(md5, commit, DVC_LOCK))
            for path, md5 in sorted(found.items())
        )

    # -- the sections ----------------------------------------------------------------

    def dossier(self) -> Dossier:
        """Every section, in Annex IV's order."""
        previous, reason = self._previous()
        data = self.data()
        return Dossier(
            model=self.info.model,
            version=self.info.version,
            general=self.general(),
            development=self.development(),
            data=data,
            metrics=self.metrics(),
            fairness=self.fairness(),
            oversight=Oversight(self.decisions, _text(self.card.get("human_oversight"))),
            changes=self.changes(previous, reason, data.inputs),
            monitoring=self.monitoring(previous),
            missing=self.missing(),
        )

    def general(self) -> General:
        """1. What the model is for, what it is, and which version this is."""
        card_model = _mapping(self.card.get("model"))
        path = self.info.artifact
        md5 = self.info.md5
        recorded_in = (
            DVC_LOCK
            if path and md5 == self.reader.lock_md5s(self.commit).get(path)
            else f"{path}.dvc"
        )
        description = _text(self.card.get("description")) or (
            self.model.description if self.model and self.model.description else None
        )
        return General(
            model=self.info.model,
            version=self.info.version,
            tag=self.registration,
            registered_at=self.info.registered_at.isoformat() if self.info.registered_at else None,
            commit=self.sources.commit(self.commit),
            description=description,
            intended_use=_text(self.card.get("intended_use")),
            family=_text(card_model.get("family")),
            format=_text(card_model.get("format")),
            artifact=Digest(path, md5, self.sources.md5(md5, self.commit, recorded_in))
            if path
            else None,
            stages=holds(self.sources, self.version, self.info.stages),
            card=self.sources.blob(self.commit, self.model.card if self.model else None),
        )

    def development(self) -> Development:
        """2. The pipeline that built the artefact, its parameters and software."""
        lock_proof = self.sources.blob(self.commit, DVC_LOCK)
        recorded = self.record.stages if self.record else {}
        stages = []
        for name, entry in self._lock(self.commit).items():
            if not isinstance(entry, dict):
                continue
            params = _mapping(entry.get("params"))
            stages.append(
                PipelineStage(
                    name=str(name),
                    command=_text(entry.get("cmd")),
                    deps=self._digests(entry.get("deps"), lock_proof),
                    outs=self._digests(entry.get("outs"), lock_proof),
                    params=tuple(
                        sorted(
                            key
                            for values in params.values()
                            if isinstance(values, dict)
                            for key in flatten(values)
                        )
                    ),
                    recorded_hash=recorded.get(str(name)),
                )
            )
        software = _mapping(self.card.get("software"))
        digest = self.record.params_digest if self.record else None
        return Development(
            code_commit=self.sources.commit(self.commit),
            lock=lock_proof,
            stages=tuple(stages),
            params_file=self.sources.blob(self.commit, self._params_file()),
            params=tuple(Param(k, str(v)) for k, v in self._params_at(self.commit).items()),
            params_digest=digest,
            params_digest_proof=self.registration if digest else None,
            software=tuple(Param(str(k), str(v)) for k, v in software.items()),
        )

    def _digests(self, entries: Any, lock: Proof | None) -> tuple[Digest, ...]:
        found = []
        for entry in entries or ():
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                md5 = entry.get("md5")
                md5 = str(md5) if md5 is not None else None
                proof = Proof("md5", md5, lock.object, lock.label) if md5 and lock else None
                found.append(Digest(entry["path"], md5, proof))
        return tuple(found)

    def data(self) -> DataGovernance:
        """3. The data the version was trained and evaluated on, and its governance."""
        record_inputs = self.record.inputs if self.record else None
        card_proof = self.sources.blob(self.commit, self.model.card if self.model else None)
        datasets = []
        for role in ("training_data", "evaluation_data"):
            raw = self.card.get(role)
            if isinstance(raw, dict):
                rate = raw.get("positive_rate")
                rows = raw.get("rows")
                datasets.append(
                    DataSet(
                        role=role.replace("_", " "),
                        path=_text(raw.get("path")),
                        md5=_text(raw.get("md5")),
                        rows=rows if isinstance(rows, int) and not isinstance(rows, bool) else None,
                        positive_rate=float(rate) if isinstance(rate, int | float) else None,
                        proof=card_proof,
                    )
                )
        schema = self.model.data_schema if self.model else None
        gates = self.model.gates if self.model else {}
        return DataGovernance(
            inputs=self._inputs_at(self.commit, record_inputs, self.registration),
            inputs_from="record" if record_inputs else DVC_LOCK,
            datasets=tuple(datasets),
            schema_path=schema,
            schema=self.sources.blob(self.commit, schema),
            data_gate_stages=tuple(stage for stage, policy in gates.items() if policy.data),
        )

    def metrics(self) -> Metrics:
        """4. Metrics with their directions, the gates and what git records of them."""
        values = self._metrics_at(self.commit)
        metrics = tuple(
            Metric(name, value, self.model.direction(name) if self.model else None, proof)
            for name, (value, proof) in values.items()
        )
        plain = {name: value for name, (value, _) in values.items()}
        stages = ("main", *(self.config.stages if self.config else ()))
        gates = self.model.gates if self.model else {}
        ordered = [s for s in stages if s in gates] + [s for s in gates if s not in stages]
        pull = f"#{self.record.pull_request}" if self.record and self.record.pull_request else None
        return Metrics(
            metrics=metrics,
            gates=tuple(
                gate_facts(stage, gates[stage], plain, self.decisions, pull) for stage in ordered
            ),
            limitations=_lines(self.card.get("limitations")),
        )

    def fairness(self) -> Fairness:
        """5. The per-segment report with its gaps, and what the model relies on."""
        declared = self.model.fairness if self.model else None
        path = declared.report if declared else None
        report = self.sources.document(self.commit, path)
        method, features = fair.importance_of(self.card)
        return Fairness(
            segments_declared=declared.segments if declared else (),
            report_path=path,
            report=self.sources.blob(self.commit, path),
            confidence=fair.confidence_of(report),
            segments=fair.segments_of(report),
            gap_gates=fair.gap_gates(self.model) if self.model else (),
            importance_method=method,
            importance=features,
            importance_proof=(
                self.sources.blob(self.commit, self.model.card if self.model else None)
                if features
                else None
            ),
        )

    def _previous(self) -> tuple[VersionState | None, str]:
        """The version this one replaced in the highest stage it reached, else the
        previous registered version."""
        stages = self.config.stages if self.config else ()
        reached = [
            s for s in self.state.stages() if self.state.held_before(s, self.version.version)
        ]
        for stage in sorted(
            reached, key=lambda s: stages.index(s) if s in stages else -1, reverse=True
        ):
            tenures = self.reader.tenures(self.info.model, stage)
            for before, tenure in pairwise(tenures):
                if tenure.version == self.version.version and before.version != tenure.version:
                    found = self.state.versions.get(before.version)
                    if found is not None and found.registered:
                        return found, f"the version it replaced in {stage}"
        own = version_precedence(self.version.version)
        earlier = [
            v
            for v in self.state.versions.values()
            if v.registered and version_precedence(v.version) < own
        ]
        if not earlier:
            return None, "the first registered version: nothing to compare with"
        return max(
            earlier, key=lambda v: version_precedence(v.version)
        ), "the previous registered version"

    def changes(
        self, previous: VersionState | None, reason: str, after_inputs: tuple[Digest, ...]
    ) -> Changes:
        """7. What changed against ``previous`` (``after_inputs``: this version's)."""
        if previous is None:
            return Changes(None, reason, None, (), (), None, (), ())
        before_record = previous.record
        after_metrics = {k: v for k, (v, _) in self._metrics_at(self.commit).items()}
        before_metrics = {k: v for k, (v, _) in self._metrics_at(previous.commit).items()}
        before_tag = self.sources.tag(previous.registration.tag if previous.registration else None)
        before_inputs = self._inputs_at(
            previous.commit, before_record.inputs if before_record else None, before_tag
        )
        digest_before = before_record.params_digest if before_record else None
        digest_after = self.record.params_digest if self.record else None
        return Changes(
            against=previous.version,
            reason=reason,
            against_commit=self.sources.commit(previous.commit),
            metrics=changed(before_metrics, after_metrics),
            params=changed(self._params_at(previous.commit), self._params_at(self.commit)),
            params_digest=(
                changed({"params_digest": digest_before}, {"params_digest": digest_after})
                or (None,)
            )[0],
            inputs=changed(
                {d.path: d.md5 for d in before_inputs}, {d.path: d.md5 for d in after_inputs}
            ),
            stages=changed_stages(self._lock(previous.commit), self._lock(self.commit)),
        )

    def monitoring(self, previous: VersionState | None) -> Monitoring:
        """8. The drift baseline, thresholds and source, and the drift evidence in git."""
        path = self.model.baseline if self.model else None
        md5 = self.reader.lock_md5s(self.commit).get(path) if path else None
        tenures = {}
        for stage in self.reader.stage_names(self.info.model):
            held = [
                t
                for t in self.reader.tenures(self.info.model, stage)
                if t.version == self.version.version
            ]
            if held:
                tenures[stage] = held
        model, version = self.info.model, self.version.version
        observed = read_observations(self.reader, model)
        branch, drift = drift_evidence(
            self.sources,
            self.info.model,
            self.commit,
            previous.commit if previous else None,
            tenures,
        )
        return Monitoring(
            baseline=Digest(path, md5, self.sources.md5(md5, self.commit, DVC_LOCK))
            if path
            else None,
            baseline_blob=self.sources.blob(self.commit, path),
            thresholds=thresholds(self.config),
            source=source(self.config),
            drift=drift,
            branch=branch,
            checks=recorded_checks(
                self.sources, observed.of(model, version, ObservationKind.DRIFT)
            ),
            canaries=recorded_canaries(
                self.sources, observed.of(model, version, ObservationKind.CANARY)
            ),
        )

    def missing(self) -> tuple[Missing, ...]:
        """The human-written fields the model card does not provide."""
        card = self.model.card if self.model else None
        if card is None:
            where = f"a model card ({CONFIG_FILE} declares none for {self.info.model})"
        elif self.sources.blob(self.commit, card) is None:
            where = f"{card} (absent at {self.commit[:12]})"
        else:
            where = card
        return tuple(Missing(name, where) for name in HUMAN_FIELDS if not self.card.get(name))
