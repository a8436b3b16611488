"""Precision and recall per finding kind against a truth file (``qijia-truth`` version 1).

Both sides are compared as sets of (application_id, kind, subject) keys, where the engine's
subject comes from :func:`qijia.screening.findings.finding_subject` — the same function the
generator uses to write its truth, so the comparison is exact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qijia.screening.findings import finding_subject
from qijia.screening.model import KINDS, Finding

Key = tuple[str, str, str]


class TruthError(ValueError):
    pass


@dataclass(frozen=True)
class KindScore:
    kind: str
    true_positives: int
    predicted: int
    expected: int

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.expected if self.expected else None


def load_truth(path: str | Path) -> set[Key]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TruthError(f"标准答案文件“{path}”无法读取：{exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != "qijia-truth" or doc.get("version") != 1:
        raise TruthError(f"标准答案文件“{path}”的格式应为 qijia-truth 第1版")
    keys: set[Key] = set()
    for n, item in enumerate(doc.get("findings") or [], start=1):
        try:
            keys.add((str(item["application_id"]), str(item["kind"]), str(item["subject"])))
        except (KeyError, TypeError):
            raise TruthError(f"标准答案文件第{n}条缺少 application_id、kind 或 subject") from None
    return keys


def truth_as_of(path: str | Path) -> str | None:
    """The as-of date the truth was computed for, when the file says so."""
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8-sig")).get("as_of")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def finding_keys(findings: list[Finding] | list[dict[str, Any]]) -> set[Key]:
    keys: set[Key] = set()
    for f in findings:
        d = f.as_json() if isinstance(f, Finding) else f
        keys.add((d["application_id"], d["kind"], finding_subject(d["kind"], d["evidence"])))
    return keys


def score(predicted: set[Key], truth: set[Key]) -> list[KindScore]:
    kinds = list(KINDS) + sorted({k for _, k, _ in predicted | truth} - set(KINDS))
    out = []
    for kind in kinds:
        p = {k for k in predicted if k[1] == kind}
        t = {k for k in truth if k[1] == kind}
        out.append(KindScore(kind, len(p & t), len(p), len(t)))
    return out


def format_scores(scores: list[KindScore]) -> str:
    def pct(x: float | None) -> str:
        return "—" if x is None else f"{x:.4f}"

    lines = [
        f"{'kind':<26} {'precision':>9} {'recall':>9} {'TP':>7} {'found':>7} {'truth':>7}",
    ]
    for s in scores:
        lines.append(
            f"{s.kind:<26} {pct(s.precision):>9} {pct(s.recall):>9} "
            f"{s.true_positives:>7} {s.predicted:>7} {s.expected:>7}"
        )
    return "\n".join(lines)


def missed_and_extra(predicted: set[Key], truth: set[Key], limit: int = 20) -> str:
    """A short listing of false negatives and false positives, for debugging a run."""
    lines = []
    for label, keys in (("漏报", sorted(truth - predicted)), ("误报", sorted(predicted - truth))):
        for k in keys[:limit]:
            lines.append(f"{label}: {k[0]} {k[1]} {k[2]}")
        if len(keys) > limit:
            lines.append(f"{label}: …另有{len(keys) - limit}条")
    return "\n".join(lines)
