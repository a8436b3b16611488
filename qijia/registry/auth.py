"""Department API tokens: the token format, hashing, and the actor a token acts as."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

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


def token_authenticate(raw: str) -> TokenActor | None:
    """Resolve a bearer token to its actor, or None. One indexed query; last-used is throttled."""
    parts = (raw or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    if len(parts[1]) > 16 or len(parts[2]) > 100:
        return None
    token = (
        ApiToken.objects.select_related("org_unit")
        .filter(prefix=parts[1], revoked_at__isnull=True, org_unit__is_active=True)
        .first()
    )
    if token is None or not hmac.compare_digest(token.secret_hash, hash_secret(parts[2])):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        # Conditional update: concurrent requests of the same token write once, no lock taken.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        token.last_used_at = now
    return TokenActor(token=token)
