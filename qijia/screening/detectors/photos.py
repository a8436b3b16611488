"""duplicate_photo: a photo of this application is the same photograph as one of another.

Fingerprinting and the duplicate search are the photo module's (:mod:`qijia.screening.photos`);
this detector only turns its pairs into findings — one on each application of a pair, never a
finding for two photos of the same application. Byte-identical files (same content key) are
pairs whatever the similarity stage says: the photo module returns them as such, and their
evidence says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qijia.screening.model import Bundle, Finding, Progress


def detect(
    bundle: Bundle,
    prints: Mapping[str, Any],
    digests: Mapping[str, str],
    progress: Progress | None = None,
) -> list[Finding]:
    """``prints``/``digests``: fingerprint and content SHA-256 per photo file (bundle-relative;
    a digest is asked for only for the files in findings); ``progress``: a progress bar for the
    verification of candidate pairs."""
    from qijia.screening import photos as photo_module

    rows = bundle.photos
    items: list[tuple[int, Any]] = [(i, prints[row.file]) for i, row in enumerate(rows)]
    pairs: dict[tuple[int, int], dict[str, Any]] = {}
    if len(items) > 1:
        for a, b, extra in photo_module.find_duplicate_pairs(items, progress=progress):
            evidence = dict(extra or {})
            if evidence.get("method") == "identical_content":
                evidence["identical_content"] = True  # (the report's "文件内容相同")
            pairs.setdefault((min(a, b), max(a, b)), evidence)

    findings: list[Finding] = []
    for (a, b), extra in pairs.items():
        ra, rb = rows[a], rows[b]
        if ra.application_id == rb.application_id:
            continue
        for this, other in ((ra, rb), (rb, ra)):
            findings.append(
                Finding(
                    application_id=this.application_id,
                    kind="duplicate_photo",
                    severity="high",
                    summary=(
                        f"照片“{this.file}”与申报 {other.application_id} 的照片“{other.file}”"
                        f"是同一张照片。"
                    ),
                    evidence={
                        "file": this.file,
                        "other_application_id": other.application_id,
                        "other_file": other.file,
                        "caption": this.caption,
                        "other_caption": other.caption,
                        "sha256": digests[this.file],
                        "other_sha256": digests[other.file],
                        **{k: v for k, v in extra.items() if k not in ("file", "other_file")},
                    },
                )
            )
    return findings
