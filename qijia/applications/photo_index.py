"""A process-wide index of every evidence photo's fingerprint, kept up to date incrementally, so
screening one application compares its photos with all others without re-reading them all.

The index holds (evidence id, sha256) keys and the engine's PhotoIndex (window hashes + thumbnail
per photo). New photos are added by id watermark on each use; a database whose largest id went
down (a test flush, a restore) resets it. Keys carry the content hash so a stale key never
matches a different file. Which applications a match counts for (not drafts, not superseded
files) is decided at query time, because statuses change after a photo is indexed.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from django.conf import settings
from django.db.models import Max

from qijia.screening import photos as photo_module

from .models import EvidenceFile, EvidenceKind

_LOCK = threading.Lock()
_STATE: dict[str, Any] = {"index": None, "watermark": 0}


def _cache() -> photo_module.FingerprintCache:
    """Fingerprints live beside the platform's other local state (settings.QIJIA_PHOTO_CACHE)."""
    return photo_module.FingerprintCache(settings.QIJIA_PHOTO_CACHE)


def fingerprint(evidence: EvidenceFile, cache: photo_module.FingerprintCache) -> Any:
    """The engine's fingerprint of a stored photo (from the cache when seen before), keyed by
    the SHA-256 the file was stored with: it is checked on every read anyway, so the print's key
    costs nothing more."""
    key = f"sha256:{evidence.sha256}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    with evidence.file.open("rb") as fh:
        data = fh.read()
    if hashlib.sha256(data).hexdigest() != evidence.sha256:
        raise RuntimeError(f"证明材料 {evidence.pk} 的内容与登记的哈希不一致")
    print_ = photo_module.fingerprint_bytes(data, key)
    cache.put(print_)
    return print_


def _refresh(cache: photo_module.FingerprintCache) -> photo_module.PhotoIndex[tuple[int, str]]:
    photos = EvidenceFile.objects.filter(kind=EvidenceKind.PHOTO)
    top = photos.aggregate(top=Max("pk"))["top"] or 0
    if _STATE["index"] is None or top < _STATE["watermark"]:
        _STATE["index"], _STATE["watermark"] = photo_module.PhotoIndex(), 0
    index = _STATE["index"]
    new = list(photos.filter(pk__gt=_STATE["watermark"]).order_by("pk"))
    if new:
        index.add([(e.pk, e.sha256) for e in new], [fingerprint(e, cache) for e in new])
        _STATE["watermark"] = new[-1].pk
    return index


def matches(files: list[EvidenceFile]) -> list[tuple[EvidenceFile, int, dict]]:
    """(own file, other evidence id, verification evidence) for every stored photo showing the
    same picture as one of ``files``."""
    if not files:
        return []
    with _LOCK:
        cache = _cache()
        try:
            index = _refresh(cache)
            prints = [fingerprint(f, cache) for f in files]
            found = index.query(prints)
        finally:
            cache.close()
    own_ids = {f.pk for f in files}
    out = []
    for position, (other_id, other_sha), evidence in found:
        if other_id in own_ids:
            continue
        out.append((files[position], other_id, {"other_sha256_key": other_sha, **evidence}))
    return out


def reset() -> None:
    """Forget the index (tests that replace files under the same ids)."""
    with _LOCK:
        _STATE["index"], _STATE["watermark"] = None, 0
