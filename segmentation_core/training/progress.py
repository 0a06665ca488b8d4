"""Training progress as JSON lines on stdout (the GUI's retrain dialog draws them) or as log lines."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, TextIO

logger = logging.getLogger(__name__)


class ProgressReporter:
    """Emits one JSON object per line (``json_lines``) or a readable log line per event."""

    def __init__(self, json_lines: bool, stream: TextIO | None = None) -> None:
        self.json_lines = json_lines
        self.stream = stream or sys.stdout

    def emit(self, event: str, **fields: Any) -> None:
        record = {"event": event, "time": round(time.time(), 3), **fields}
        if self.json_lines:
            self.stream.write(json.dumps(record, default=_jsonable) + "\n")
            self.stream.flush()
        else:
            logger.info("%s %s", event, " ".join(f"{k}={_short(v)}" for k, v in fields.items()))


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
