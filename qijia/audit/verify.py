"""Walk the chain and report the first row that was altered, inserted or removed."""

from __future__ import annotations

from dataclasses import dataclass

from .models import AuditEvent, ChainHead
from .services import GENESIS, compute_hash, event_fields


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    problem: str = ""
    seq: int | None = None

    def __str__(self) -> str:
        if self.ok:
            return f"审计链完整：共校验 {self.checked} 条记录"
        return f"审计链被破坏：第 {self.seq} 号记录附近 — {self.problem}"


def verify_chain(*, batch_size: int = 5000) -> VerifyResult:
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    last_seq = 0
    queryset = AuditEvent.objects.order_by("seq")
    for event in queryset.iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            if event.seq > expected_seq:
                return VerifyResult(
                    False,
                    checked,
                    f"缺少序号 {expected_seq} 至 {event.seq - 1} 的记录（被删除）",
                    expected_seq,
                )
            return VerifyResult(False, checked, "序号重复或乱序（被插入）", event.seq)
        if event.prev_hash != expected_prev:
            return VerifyResult(
                False, checked, "前序哈希与上一条记录不符（记录被插入或删除）", event.seq
            )
        if compute_hash(event_fields(event)) != event.hash:
            return VerifyResult(False, checked, "记录内容与其哈希不符（被篡改）", event.seq)
        expected_prev, expected_seq, last_seq = event.hash, event.seq + 1, event.seq
        checked += 1
    head = ChainHead.objects.filter(id=1).first()
    head_seq, head_hash = (head.last_seq, head.last_hash) if head else (0, GENESIS)
    if head_seq != last_seq or head_hash != expected_prev:
        if head_seq > last_seq:
            return VerifyResult(
                False,
                checked,
                f"链尾记录被删除：应有 {head_seq} 条，实有 {last_seq} 条",
                last_seq + 1,
            )
        return VerifyResult(False, checked, "链头与最后一条记录不符（记录被追加或篡改）", last_seq)
    return VerifyResult(True, checked)
