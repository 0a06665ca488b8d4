"""The training-progress protocol: typed events, written by the trainer as JSON lines (``--json-progress``)
or log lines, and read back by the GUI's retrain dialog with :func:`parse_event`.

One schema for both sides: the reporter refuses an event that does not fit it, and the reader gets
typed events (never guesses keys). Every line is ``{"event": <kind>, "time": <unix s>, ...fields}``.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from dataclasses import dataclass
from typing import Any, TextIO

from segmentation_core.labels import REGION_NAMES

logger = logging.getLogger(__name__)


class ProgressSchemaError(ValueError):
    """A progress record that does not fit the schema (names the event and the field)."""


def _number(record: dict[str, Any], key: str, *, required: bool = False) -> float | None:
    value = record.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProgressSchemaError(f"{record.get('event')!r} event: {key!r} must be a number, got {value!r}")
    return float(value) if math.isfinite(value) else None


def _integer(record: dict[str, Any], key: str, *, required: bool = False) -> int | None:
    value = _number(record, key, required=required)
    return None if value is None else int(value)


def _text(record: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = record.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ProgressSchemaError(f"{record.get('event')!r} event: {key!r} must be text, got {value!r}")
    return value


def _names(record: dict[str, Any], key: str) -> tuple[str, ...]:
    value = record.get(key, [])
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ProgressSchemaError(f"{record.get('event')!r} event: {key!r} must be a list of names")
    return tuple(value)


@dataclass(frozen=True)
class RegionScore:
    """Mean validation metrics of one region (None where not finite, e.g. HD95 of an empty region)."""

    dice: float | None
    hd95: float | None = None


def _validation(record: dict[str, Any]) -> dict[str, RegionScore]:
    """``val.mean`` of an epoch record -> region -> RegionScore (empty when the epoch was not validated)."""
    val = record.get("val")
    if val is None:
        return {}
    mean = val.get("mean") if isinstance(val, dict) else None
    if not isinstance(mean, dict):
        raise ProgressSchemaError("'epoch' event: 'val' must hold a 'mean' table of regions")
    scores: dict[str, RegionScore] = {}
    for region in REGION_NAMES:
        values = mean.get(region)
        if isinstance(values, dict):
            scores[region] = RegionScore(_number(values, "dice"), _number(values, "hd95"))
    return scores


@dataclass(frozen=True)
class StartEvent:
    kind = "start"
    train_cases: tuple[str, ...]
    val_cases: tuple[str, ...]
    iterations: int
    start_iteration: int
    device: str | None

    @classmethod
    def from_record(cls, r: dict[str, Any]) -> StartEvent:
        return cls(
            _names(r, "train_cases"),
            _names(r, "val_cases"),
            _integer(r, "iterations", required=True) or 0,
            _integer(r, "start_iteration") or 0,
            _text(r, "device"),
        )


@dataclass(frozen=True)
class ResumedEvent:
    kind = "resumed"
    iteration: int
    checkpoint: str

    @classmethod
    def from_record(cls, r: dict[str, Any]) -> ResumedEvent:
        return cls(_integer(r, "iteration", required=True) or 0, _text(r, "checkpoint", required=True) or "")


@dataclass(frozen=True)
class StepEvent:
    """Progress inside an epoch: the run's iteration so far and the loss of that training step."""

    kind = "step"
    epoch: int
    epochs: int | None
    iteration: int
    iterations: int
    step_loss: float | None
    eta_s: float | None

    @classmethod
    def from_record(cls, r: dict[str, Any]) -> StepEvent:
        return cls(
            _integer(r, "epoch", required=True) or 0,
            _integer(r, "epochs"),
            _integer(r, "iteration", required=True) or 0,
            _integer(r, "iterations", required=True) or 0,
            _number(r, "step_loss"),
            _number(r, "eta_s"),
        )


@dataclass(frozen=True)
class EpochEvent:
    """One finished epoch: mean loss, and the validation scores when the epoch was validated."""

    kind = "epoch"
    epoch: int
    epochs: int | None
    step: int | None
    loss: float | None
    lr: float | None
    eta_s: float | None
    val: dict[str, RegionScore]
    checkpoint: str | None

    @classmethod
    def from_record(cls, r: dict[str, Any]) -> EpochEvent:
        return cls(
            _integer(r, "epoch", required=True) or 0,
            _integer(r, "epochs"),
            _integer(r, "step"),
            _number(r, "loss"),
            _number(r, "lr"),
            _number(r, "eta_s"),
            _validation(r),
            _text(r, "checkpoint"),
        )


@dataclass(frozen=True)
class DoneEvent:
    kind = "done"
    bundle: str
    iteration: int | None

    @classmethod
    def from_record(cls, r: dict[str, Any]) -> DoneEvent:
        return cls(_text(r, "bundle", required=True) or "", _integer(r, "iteration"))


@dataclass(frozen=True)
class ErrorEvent:
    kind = "error"
    error: str

    @classmethod
    def from_record(cls, r: dict[str, Any]) -> ErrorEvent:
        return cls(_text(r, "error", required=True) or "")


TrainingEvent = StartEvent | ResumedEvent | StepEvent | EpochEvent | DoneEvent | ErrorEvent
EVENT_TYPES: dict[str, type[TrainingEvent]] = {
    cls.kind: cls for cls in (StartEvent, ResumedEvent, StepEvent, EpochEvent, DoneEvent, ErrorEvent)
}


def event_from_record(record: dict[str, Any]) -> TrainingEvent:
    """The typed event of one decoded record; ProgressSchemaError when it does not fit the schema."""
    kind = record.get("event")
    if kind not in EVENT_TYPES:
        raise ProgressSchemaError(f"unknown training event {kind!r}; expected one of {sorted(EVENT_TYPES)}")
    return EVENT_TYPES[kind].from_record(record)


def parse_event(line: str) -> TrainingEvent | None:
    """The event on one stdout line of the trainer, or None for anything else (log text, blank lines,
    JSON that is not a progress event)."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        record = json.loads(line)
        return event_from_record(record) if isinstance(record, dict) else None
    except ValueError:  # not JSON, or not an event of the schema
        return None


class ProgressReporter:
    """Emits one JSON object per line (``json_lines``) or a readable log line per event."""

    def __init__(self, json_lines: bool, stream: TextIO | None = None) -> None:
        self.json_lines = json_lines
        self.stream = stream or sys.stdout

    def emit(self, event: str, **values: Any) -> None:
        """Write one event; ProgressSchemaError if it does not fit the schema (a bug in the trainer)."""
        record = json.loads(
            json.dumps({"event": event, "time": round(time.time(), 3), **values}, default=_jsonable)
        )
        event_from_record(record)
        if self.json_lines:
            self.stream.write(json.dumps(record) + "\n")
            self.stream.flush()
        else:
            logger.info("%s %s", event, " ".join(f"{k}={_short(v)}" for k, v in values.items()))


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


__all__ = [
    "EVENT_TYPES",
    "DoneEvent",
    "EpochEvent",
    "ErrorEvent",
    "ProgressReporter",
    "ProgressSchemaError",
    "RegionScore",
    "ResumedEvent",
    "StartEvent",
    "StepEvent",
    "TrainingEvent",
    "event_from_record",
    "parse_event",
]
