"""Department API tokens: the token format, hashing, and the actor a token acts as."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from qijia.core.db import select_joined
from qijia.identity.roles import OrgKind, Role

from .models import ApiToken, TokenScope

TOKEN_PREFIX = "qjr"
#: last_used_at is written at most once per this interval per token (it is on the hot path).
LAST_USED_RESOLUTION = timedelta(seconds=60)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token_text() -> tuple[str, str, str]:
    """(full token text, lookup prefix, sha256 of the secret)."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"{TOKEN_PREFIX}_{prefix}_{secret}", prefix, hash_secret(secret)


@dataclass
class TokenActor:
    """What a request authenticated by a department token acts as in services and the audit."""

    token: ApiToken
    is_token: bool = True
    is_authenticated: bool = True
    is_active: bool = True
    pk: None = None
    id: None = None
    enterprise_id: None = None
    enterprise: None = None
    email: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def org_unit(self) -> Any:
        return self.token.org_unit

    @property
    def org_unit_id(self) -> int:
        return self.token.org_unit_id

    @property
    def role(self) -> str:
        return Role.PARTNER if self.token.org_unit.kind == OrgKind.PARTNER else Role.OFFICER

    @property
    def can_write(self) -> bool:
        return self.token.scope == TokenScope.READ_WRITE

    @property
    def username(self) -> str:
        return f"api:{self.token.prefix}"

    @property
    def display_name(self) -> str:
        return f"接口令牌“{self.token.name}”"

    def __str__(self) -> str:
        return f"{self.token.org_unit.name} {self.display_name}"


#: A verified token is reused by its process for this long: a check then costs no token query.
#: Revoking a token (or deactivating its department) takes effect within this time everywhere,
#: and at once in the process that revoked it.
TOKEN_CACHE_SECONDS = 5.0
_verified: dict[str, tuple[float, ApiToken]] = {}


def _find_token(prefix: str, secret: str) -> ApiToken | None:
    now = time.monotonic()
    hit = _verified.get(prefix)
    digest = hash_secret(secret)
    if hit is not None and hit[0] > now and hmac.compare_digest(hit[1].secret_hash, digest):
        return hit[1]
    rows = select_joined(
        ApiToken,
        't."prefix" = %s AND t."revoked_at" IS NULL AND r0."is_active"',
        [prefix],
        related=("org_unit",),
    )
    if not rows or not hmac.compare_digest(rows[0].secret_hash, digest):
        _verified.pop(prefix, None)
        return None
    if len(_verified) > 1000:  # tokens are few; this only bounds a flood of made-up prefixes
        _verified.clear()
    _verified[prefix] = (now + TOKEN_CACHE_SECONDS, rows[0])
    return rows[0]


def forget_token(prefix: str) -> None:
    """Drop a token from this process's cache (called when it is revoked)."""
    _verified.pop(prefix, None)


def token_authenticate(raw: str) -> TokenActor | None:
    """Resolve a bearer token to its actor, or None. At most one indexed query (none while the
    process has verified the token in the last TOKEN_CACHE_SECONDS); last-used is throttled."""
    parts = (raw or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    if len(parts[1]) > 16 or len(parts[2]) > 100:
        return None
    token = _find_token(parts[1], parts[2])
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        # Conditional update: concurrent requests of the same token write once, no lock taken.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        token.last_used_at = now
    return TokenActor(token=token)
