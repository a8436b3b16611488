"""Importing a file: keep it, check it, and apply it in one transaction or not at all.

Why hand-written on openpyxl/csv rather than django-import-export: its Resource model saves row by
row through ``import_row`` and resolves foreign keys with widgets keyed by plain column values. Our
natural keys need computed lookups (a person is found by the keyed hash of the identity number, a
role by three keys across two tables), the identity number must be stored hashed, encrypted and
masked rather than as a column, one audit row per change must join the same transaction, and a
city-scale file wants bulk writes. Bending import-export to all of that would replace most of it;
the rules themselves live once in ``validation.py`` and are shared with the services.

Steps: (1) the bytes are bounded by QIJIA_MAX_UPLOAD_BYTES and stored with an ImportBatch (audited)
before anything is parsed, so no upload is lost; (2) the content decides the format; (3) every
cell is checked and every reference resolved, collecting all errors; (4) any error rejects the whole
file and writes an XLSX report; otherwise (5) everything is written in one transaction together
with its audit rows.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError, transaction
from django.utils import timezone

from qijia.audit.services import Entry, audit_record, record_many
from qijia.core.errors import ValidationFailed
from qijia.identity.permissions import require

from ..models import ImportBatch, ImportKind, ImportStatus
from ..validation import CellError, Lookups, clean_value
from .kinds import KINDS, CleanRow, ErrorSink
from .reading import FileRejected, RowError, read_table
from .report import error_report_xlsx

logger = logging.getLogger(__name__)
PREVIEW_ERRORS = 50


class _Rejected(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes


def read_upload(fileobj: IO[bytes] | Any, *, name: str = "", size: int | None = None) -> Upload:
    """Read an uploaded file, refusing more than QIJIA_MAX_UPLOAD_BYTES (checked while reading,
    not trusted from the client's declared size)."""
    limit = settings.QIJIA_MAX_UPLOAD_BYTES
    if size is not None and size > limit:
        raise ValidationFailed(
            _too_big(limit), code="upload_too_large", fields={"file": _too_big(limit)}
        )
    chunks, total = [], 0
    if hasattr(fileobj, "chunks"):
        iterator = fileobj.chunks()
    else:
        iterator = iter(lambda: fileobj.read(1 << 20), b"")
    for chunk in iterator:
        total += len(chunk)
        if total > limit:
            raise ValidationFailed(
                _too_big(limit), code="upload_too_large", fields={"file": _too_big(limit)}
            )
        chunks.append(chunk)
    raw_name = name or getattr(fileobj, "name", "") or "upload"
    return Upload(name=os.path.basename(str(raw_name))[:200] or "upload", data=b"".join(chunks))


def _too_big(limit: int) -> str:
    return f"文件超过大小上限（{limit // (1024 * 1024)} MB），请拆分后分批导入"


def import_file(*, actor: Any, kind: str, upload: Upload) -> ImportBatch:
    """Receive and process one file of ``kind`` synchronously (CLI, tests); returns the batch
    with status imported, rejected or failed."""
    batch = import_receive(actor=actor, kind=kind, upload=upload)
    return import_process(batch_id=batch.pk)


def import_receive(*, actor: Any, kind: str, upload: Upload) -> ImportBatch:
    """Keep the file and record the batch (audited) before anything is parsed: an upload is never
    lost, whatever its content turns out to be."""
    require(actor, "enterprises.import")
    if kind not in KINDS:
        raise ValidationFailed(
            "未知的导入数据类型", code="import_kind", fields={"kind": "未知类型"}
        )
    if not upload.data:
        raise ValidationFailed("文件为空", code="upload_empty", fields={"file": "文件为空"})
    sha256 = hashlib.sha256(upload.data).hexdigest()
    with transaction.atomic():
        batch = ImportBatch(
            kind=kind,
            file_format="",
            original_name=upload.name,
            sha256=sha256,
            size_bytes=len(upload.data),
            uploaded_by=actor,
        )
        batch.file.save(upload.name, ContentFile(upload.data), save=False)
        batch.save()
        audit_record(
            actor=actor,
            action="enterprises.import.receive",
            obj=batch,
            after={"kind": kind, "file": upload.name, "sha256": sha256, "size": len(upload.data)},
        )
    return batch


def import_process(*, batch_id: int) -> ImportBatch:
    """Check a received batch and apply it in one transaction, or reject it whole with a report.
    Runs in a worker when Celery has one (tasks.py), in-process otherwise. A batch that is no
    longer in status "received" is left alone, so a repeated task does nothing."""
    batch = ImportBatch.objects.select_related("uploaded_by").get(pk=batch_id)
    actor = batch.uploaded_by
    if batch.status != ImportStatus.RECEIVED:
        return batch
    # The uploader's rights are checked again: they may have changed since the upload.
    require(actor, "enterprises.import")
    spec = KINDS[batch.kind]
    with batch.file.open("rb") as fh:
        data = fh.read()
    if hashlib.sha256(data).hexdigest() != batch.sha256:
        return _fail(actor, batch, "保存的文件与上传时的校验值不一致，未导入", "sha256_mismatch")
    try:
        with transaction.atomic():
            locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
            if locked.status != ImportStatus.RECEIVED:
                return locked
            counts, entries = _check_and_apply(batch, spec, data)
            batch.status = ImportStatus.IMPORTED
            batch.created_count, batch.updated_count, batch.unchanged_count = counts
            batch.finished_at = timezone.now()
            batch.save()
            entries.append(
                Entry(
                    action="enterprises.import.apply",
                    obj=batch,
                    after={
                        "rows": batch.row_count,
                        "created": counts[0],
                        "updated": counts[1],
                        "unchanged": counts[2],
                        "sha256": batch.sha256,
                    },
                )
            )
            record_many(actor=actor, entries=entries)
    except _Rejected as rejected:
        _reject(actor, batch, rejected.errors)
    except DatabaseError as exc:
        logger.exception("import batch %s failed", batch.pk)
        batch.refresh_from_db()
        return _fail(
            actor,
            batch,
            f"数据库拒绝了本次导入，未写入任何数据：{type(exc).__name__}",
            type(exc).__name__,
        )
    return batch


def _fail(actor: Any, batch: ImportBatch, message: str, error: str) -> ImportBatch:
    with transaction.atomic():
        batch.status = ImportStatus.FAILED
        batch.failure_message = message
        batch.finished_at = timezone.now()
        batch.save()
        audit_record(
            actor=actor, action="enterprises.import.fail", obj=batch, after={"error": error}
        )
    return batch


def _check_and_apply(
    batch: ImportBatch, spec: Any, data: bytes
) -> tuple[tuple[int, int, int], list[Entry]]:
    try:
        table = read_table(data, spec.columns, sheet_names=spec.sheet_names)
    except FileRejected as exc:
        raise _Rejected(exc.errors) from None
    batch.file_format = table.file_format
    batch.row_count = len(table.rows)
    lookups = Lookups.load()
    sink = ErrorSink(spec.columns)
    sink.extend(table.errors)
    rows: list[CleanRow] = []
    for line, raw, cells in table.rows:
        row = CleanRow(line=line, values={}, cells=cells, raw=raw)
        for column in table.columns:
            try:
                row.values[column.key] = clean_value(column, raw.get(column.key), lookups)
            except CellError as exc:
                sink.add(row, column.key, exc.message)
        rows.append(row)
    present = {c.key for c in table.columns}
    plan = spec.plan(rows, present, sink)
    if sink.errors:
        raise _Rejected(sink.errors)
    entries = plan.apply(batch_id=batch.pk)
    return (len(plan.creates), len(plan.updates), plan.unchanged), entries


def _reject(actor: Any, batch: ImportBatch, errors: list[RowError]) -> None:
    with transaction.atomic():
        batch.status = ImportStatus.REJECTED
        batch.error_count = len(errors)
        batch.errors_preview = [
            e.as_dict()
            for e in sorted(errors, key=lambda e: (e.line or 0, e.cell))[:PREVIEW_ERRORS]
        ]
        batch.finished_at = timezone.now()
        report = error_report_xlsx(batch, errors)
        batch.error_report.save(
            f"imports/reports/{batch.pk}-{batch.sha256[:12]}-错误报告.xlsx",
            ContentFile(report),
            save=False,
        )
        batch.save()
        audit_record(
            actor=actor,
            action="enterprises.import.reject",
            obj=batch,
            after={
                "rows": batch.row_count,
                "errors": len(errors),
                "bad_rows": len({e.line for e in errors if e.line is not None}),
                "sha256": batch.sha256,
            },
        )


__all__ = ["ImportKind", "Upload", "import_file", "import_process", "import_receive", "read_upload"]
