"""duplicate_photo: a photo of this application is the same photograph as one of another.

Fingerprinting and the duplicate search are the photo module's (:mod:`qijia.screening.photos`);
this detector only turns its pairs into findings — one on each application of a pair, never a
finding for two photos of the same application. Byte-identical files (same content key) are
pairs whatever the similarity stage says: the photo module returns them as such, and their
evidence says so.

"The same photograph" is an equivalence: two copies of one original are the same photograph
even where neither can be verified against the other (cropped from opposite sides, or one of
them keeping the stored pixels of an original whose EXIF tag the other was turned by). So two
photos joined by a chain of verified pairs are a pair too, with the photos of a shortest chain
between them as evidence (``via``), which a reviewer checks one link at a time.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
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
    chains = _chains(pairs)

    findings: list[Finding] = []
    for (a, b), extra in [*pairs.items(), *((pair, {"method": "transitive"}) for pair in chains)]:
        ra, rb = rows[a], rows[b]
        if ra.application_id == rb.application_id:
            continue
        between = [rows[k] for k in chains.get((a, b), [])]
        for this, other, via in ((ra, rb, between), (rb, ra, between[::-1])):
            evidence = {
                "file": this.file,
                "other_application_id": other.application_id,
                "other_file": other.file,
                "caption": this.caption,
                "other_caption": other.caption,
                "sha256": digests[this.file],
                "other_sha256": digests[other.file],
                **{k: v for k, v in extra.items() if k not in ("file", "other_file")},
            }
            summary = (
                f"照片“{this.file}”与申报 {other.application_id} 的照片“{other.file}”是同一张照片"
            )
            if via:
                evidence["via"] = [
                    {"application_id": r.application_id, "file": r.file} for r in via
                ]
                steps = "、".join(f"申报 {r.application_id} 的照片“{r.file}”" for r in via)
                summary += f"（经由{steps}逐一核验相同）"
            findings.append(
                Finding(
                    application_id=this.application_id,
                    kind="duplicate_photo",
                    severity="high",
                    summary=summary + "。",
                    evidence=evidence,
                )
            )
    return findings


def _chains(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], list[int]]:
    """For every two photos (a < b) joined by a chain of ``pairs`` but not by a pair of their
    own: the photos between them on a shortest chain, from a to b. Usually both were paired with
    one original (the lowest such photo is named); otherwise a breadth-first search, neighbours
    in order, so the same bundle gives the same chains. Cost grows with the pairs missing, not
    with the pairs found: a picture uploaded to hundreds of applications is one complete
    component and costs one pass over it."""
    found = set(pairs)
    graph: dict[int, set[int]] = defaultdict(set)
    for a, b in found:
        graph[a].add(b)
        graph[b].add(a)
    chains: dict[tuple[int, int], list[int]] = {}
    seen: set[int] = set()
    for first in sorted(graph):
        if first in seen:
            continue
        component = sorted(_reachable(graph, first))
        seen.update(component)
        size = len(component)
        if sum(len(graph[k]) for k in component) == size * (size - 1):
            continue  # every two of them were paired
        for x, a in enumerate(component):
            for b in component[x + 1 :]:
                if b in graph[a]:
                    continue
                common = graph[a] & graph[b]
                chains[(a, b)] = [min(common)] if common else _shortest(graph, a, b)
    return chains


def _reachable(graph: Mapping[int, set[int]], start: int) -> set[int]:
    reached, queue = {start}, deque([start])
    while queue:
        for nxt in graph[queue.popleft()]:
            if nxt not in reached:
                reached.add(nxt)
                queue.append(nxt)
    return reached


def _shortest(graph: Mapping[int, set[int]], start: int, end: int) -> list[int]:
    """The photos strictly between ``start`` and ``end`` on a shortest chain (they are joined)."""
    parent = {start: start}
    queue = deque([start])
    while end not in parent:
        node = queue.popleft()
        for nxt in sorted(graph[node]):
            if nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    path, node = [], parent[end]
    while node != start:
        path.append(node)
        node = parent[node]
    return path[::-1]
