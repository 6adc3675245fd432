"""JSON logs, one object a line, with the request id. Never personal data."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id_var.get()
        if rid:
            entry["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return format_exception_safely(ei[1]) if ei and ei[1] is not None else super().formatException(ei)


def _is_database_error(exc: BaseException) -> bool:
    # SQLAlchemy wrappers and driver errors: their text quotes the bound values
    module = type(exc).__module__ or ""
    return module.startswith(("sqlalchemy", "asyncpg", "psycopg")) and not isinstance(exc, (AttributeError, TypeError))


def _describe(exc: BaseException) -> str:
    if not _is_database_error(exc):
        return "".join(traceback.format_exception_only(type(exc), exc))
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(exc, "sqlstate", None) or getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    statement = getattr(exc, "statement", None)
    text = f"{type(exc).__module__}.{type(exc).__qualname__}: [message withheld: it may quote personal data]"
    if sqlstate:
        text += f" sqlstate={sqlstate}"
    if orig is not None:
        text += f" driver_error={type(orig).__qualname__}"
    if statement:
        text += f"\n  statement: {statement}"
    return text + "\n"


def format_exception_safely(exc: BaseException) -> str:
    """A traceback (frames and source lines, no locals) whose database error messages are withheld."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        chain.append(current)
        seen.add(id(current))
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    parts = [
        "Traceback (most recent call last):\n" + "".join(traceback.format_tb(e.__traceback__)) + _describe(e)
        for e in reversed(chain)
    ]
    return "\nThe above exception led to:\n\n".join(parts).rstrip("\n")


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # replaced by our access log
