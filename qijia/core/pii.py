"""Personal data at rest: a keyed hash to match identity numbers, Fernet to keep a readable copy."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet
from django.conf import settings


def match_hash(value: str) -> str:
    """HMAC-SHA256 of a normalised identifier: equal inputs match, the input cannot be read back."""
    return hmac.new(
        settings.QIJIA_PII_HASH_KEY.encode(), value.encode(), hashlib.sha256
    ).hexdigest()


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def encrypt(value: str) -> str:
    return _fernet(settings.QIJIA_PII_FERNET_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet(settings.QIJIA_PII_FERNET_KEY).decrypt(token.encode()).decode()
