"""``POST /feedback``: the true outcome of earlier predictions, by prediction id.

Bodies (bounded like ``/predict``'s: ``--max-body-bytes``, and at most ``--max-batch``
labels)::

    {"id": "6650f2c1a3b4c5d6e7f8-41", "label": 1}
    {"labels": [{"id": "...", "label": 0}, {"id": "...", "label": true}]}
    [{"id": "...", "label": 0}, ...]
    id,label                 (text/csv, with this header)
    6650f2c1a3b4c5d6e7f8-41,1

A label is ``0``, ``1``, ``true`` or ``false`` (in CSV also ``True``/``FALSE``...). Any
other value, a missing or non-string id, or another field is a 422 whose one-line detail
names the record, and no label of that request is taken.

Each label is matched to its prediction in the server's memory of recent ids
(:class:`~gitml.serve.ids.PredictionIds`): *accepted* and handed to the analysis' label
sink the first time, *duplicate* after (the first label stands), *unknown* when the id
is not remembered (older than the last ``--known-ids`` predictions, from another
process, or made up). None of these is an error; the answer counts them::

    {"accepted": 2, "unknown": 1, "duplicate": 0}

With ``--log``, every well-formed label, whatever its outcome, is appended to the
feedback log beside the prediction log (``predictions.feedback.jsonl``: ``{"ts", "id",
"label"}``), before it is matched: the log outlives the server's memory (a restart,
another replica), and an offline replay joins the two logs by id.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from gitml.serve.ids import LabelOutcome
from gitml.serve.logbounds import truncate
from gitml.serve.prediction_log import PredictionLogError, timestamp
from gitml.serve.records import BadRequest
from gitml.serve.responses import error, log_check, log_failing, media_type, read_body
from gitml.serve.scoring import TooLarge

if TYPE_CHECKING:
    from starlette.requests import Request

    from gitml.serve.deployment import Deployment
    from gitml.serve.ids import PredictionIds
    from gitml.serve.metrics import ServeMetrics
    from gitml.serve.prediction_log import PredictionLog
    from gitml.serve.settings import ServeSettings

__all__ = ["InvalidLabels", "Label", "feedback", "parse_feedback"]

_FIELDS = frozenset({"id", "label"})
_TEXT_LABELS = {"0": 0, "1": 1, "true": 1, "false": 0}
_MAX_SHOWN = 40


@dataclass(frozen=True)
class Label:
    """One label for one prediction id."""

    id: str
    label: int


class InvalidLabels(Exception):
    """Labels that are not 0/1/true/false, ids that are not strings, unknown fields
    (HTTP 422). ``str()`` is the one-line detail: the first bad record, and how many more."""


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=repr)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _entries(body: bytes, is_csv: bool) -> list[Any]:
    """The label records of a body, before their values are checked."""
    if is_csv:
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadRequest(f"CSV is not UTF-8: {exc}") from None
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        try:
            rows = list(reader)
        except csv.Error as exc:
            raise BadRequest(f"invalid CSV at line {reader.line_num}: {exc}") from None
        if reader.fieldnames is None or set(reader.fieldnames) != _FIELDS:
            raise BadRequest(f"expected the CSV header id,label, got {reader.fieldnames!r}")
        return rows
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadRequest(f"invalid JSON: {str(exc).splitlines()[0]}") from None
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        if set(document) == {"labels"}:
            if not isinstance(document["labels"], list):
                raise BadRequest('"labels" must be a JSON array of {"id", "label"} objects')
            return list(document["labels"])
        return [document]
    raise BadRequest(
        'expected {"id", "label"}, {"labels": [...]} or a JSON array, '
        f"got {type(document).__name__}"
    )


def _label(entry: Any, from_text: bool) -> Label | str:
    """The label of one record, or what is wrong with it."""
    if not isinstance(entry, dict):
        return f"expected an object with id and label, got {_show(entry)}"
    if extra := sorted(str(k) for k in entry if k not in _FIELDS):
        return f"unknown field {truncate(extra[0], _MAX_SHOWN)!r} (expected id and label)"
    if "id" not in entry or "label" not in entry:
        return f"missing field {'id' if 'id' not in entry else 'label'!r}"
    prediction_id, value = entry["id"], entry["label"]
    if not isinstance(prediction_id, str) or not prediction_id:
        return f"id must be a prediction id (a non-empty string), got {_show(prediction_id)}"
    label: int | None = None
    if from_text and isinstance(value, str):
        label = _TEXT_LABELS.get(value.strip().lower())
    elif isinstance(value, bool):
        label = int(value)
    elif isinstance(value, int) and value in (0, 1):
        label = value
    if label is None:
        return f"label must be 0, 1, true or false, got {_show(value)}"
    return Label(prediction_id, label)


def parse_feedback(body: bytes, is_csv: bool, max_labels: int) -> list[Label]:
    """Every label of a body; :class:`BadRequest` (400) when it cannot be read,
    :class:`InvalidLabels` (422) naming the first bad record, :class:`TooLarge` (413)."""
    entries = _entries(body, is_csv)
    if len(entries) > max_labels:
        raise TooLarge(f"{len(entries)} labels exceed the limit of {max_labels} per request")
    labels: list[Label] = []
    problems: list[tuple[int, str]] = []
    for index, entry in enumerate(entries):
        result = _label(entry, is_csv)
        if isinstance(result, str):
            problems.append((index, result))
        else:
            labels.append(result)
    if problems:
        index, problem = problems[0]
        more = f" (and {len(problems) - 1} more invalid records)" if len(problems) > 1 else ""
        raise InvalidLabels(f"record {index}: {problem}{more}")
    return labels


def _apply(
    labels: list[Label],
    ids: PredictionIds,
    deployment: Deployment,
    log: PredictionLog | None,
) -> Counter[LabelOutcome]:
    """Log every label, then match each to its prediction and pass on the accepted ones."""
    if log is not None:
        ts = timestamp()
        log.write_entries([{"ts": ts, "id": truncate(x.id), "label": x.label} for x in labels])
    outcomes: Counter[LabelOutcome] = Counter()
    for item in labels:
        outcome, _answer = ids.label(item.id)
        outcomes[outcome] += 1
        if outcome is LabelOutcome.ACCEPTED:
            deployment.accept_label(item.id, item.label)
    return outcomes


def _read(body: bytes, is_csv: bool, settings: ServeSettings) -> list[Label]:
    return parse_feedback(body, is_csv, settings.max_batch)


async def feedback(request: Request) -> Response:
    """``POST /feedback`` (see the module docstring)."""
    state = request.app.state
    settings: ServeSettings = state.settings
    metrics: ServeMetrics = state.metrics
    log: PredictionLog | None = state.feedback_log
    if (reason := await log_check(log)) is not None:
        return log_failing(reason, "labels")
    media, is_csv, is_json = media_type(request)
    if not (is_csv or is_json):
        return error(415, f"unsupported content type {media!r}: send application/json or text/csv")
    try:
        body = await read_body(request, settings.max_body_bytes)
        labels = await run_in_threadpool(_read, body, is_csv, settings)
        outcomes = await run_in_threadpool(
            _apply, labels, state.prediction_ids, state.deployment, log
        )
    except TooLarge as exc:
        return error(413, str(exc))
    except BadRequest as exc:
        return error(400, exc.message)
    except InvalidLabels as exc:
        return error(422, str(exc))
    except PredictionLogError as exc:
        return log_failing(str(exc), "labels")
    answer = {str(outcome): outcomes[outcome] for outcome in LabelOutcome}
    for outcome, count in answer.items():
        if count:
            metrics.feedback.labels(outcome).inc(count)
    return JSONResponse(answer)
