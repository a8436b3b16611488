"""Where the current request came from, for the audit trail (set by RequestContextMiddleware)."""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RequestContext:
    ip: str = ""
    user_agent: str = ""
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    channel: str = "system"  # web, api, cli, task, system


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "qijia_request_context",
    default=RequestContext(),  # noqa: B039 - frozen, never mutated
)


def current() -> RequestContext:
    return _current.get()


def bind(ctx: RequestContext) -> contextvars.Token:
    return _current.set(ctx)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)
