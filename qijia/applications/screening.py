"""Django adapter for the screening engine: database rows in, ScreeningFinding rows out.

The engine (qijia.screening, no Django) screens a Bundle. For one submitted application we build a
bundle of the applications that could collide with it on invoices (those sharing an invoice
number) plus the part of the enterprise registry that can link the applicant to its sellers (the radius-2 neighbourhoods of the
applicant and of each seller through roles and holdings: a path of ≤ 4 edges has its middle node
within 2 of both ends, the engine's own argument). Only findings about the screened application are
stored; re-screening keeps earlier findings and their disposals (unique by kind and subject).

Photos are compared through a process-wide incremental index of every photo (photo_index.py)
instead of a bundle of all photos, so one screening costs the new photos, not the whole archive.

Registry listings are not screened here: the lifecycle asks the registry itself at submission,
approval and payment (checks.py), with the refusal shown to the applicant.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from qijia.audit.services import audit_record
from qijia.enterprises.models import Enterprise, Holding, PersonRole
from qijia.screening.engine import screen
from qijia.screening.findings import finding_subject
from qijia.screening.model import (
    ApplicationRow,
    Bundle,
    EnterpriseRow,
    Finding,
    HoldingRow,
    InvoiceRow,
    PersonRow,
    RoleRow,
)

from . import photo_index
from .models import Application, EvidenceFile, EvidenceKind, Invoice, ScreeningFinding, Status

NOT_SCREENED = {Status.DRAFT, Status.WITHDRAWN}


def _neighbourhood(usccs: set[str], hops: int = 2) -> tuple[set[int], set[int]]:
    """Enterprise ids and person ids within ``hops`` role/holding edges of the given USCCs."""
    enterprise_ids = set(Enterprise.objects.filter(uscc__in=usccs).values_list("pk", flat=True))
    person_ids: set[int] = set()
    frontier_e: set[int] = set(enterprise_ids)
    frontier_p: set[int] = set()
    for _ in range(hops):
        new_p = (
            set(
                PersonRole.objects.filter(enterprise_id__in=frontier_e).values_list(
                    "person_id", flat=True
                )
            )
            - person_ids
        )
        new_e = set(
            PersonRole.objects.filter(person_id__in=frontier_p).values_list(
                "enterprise_id", flat=True
            )
        )
        for holder, held in Holding.objects.filter(
            Q(holder_id__in=frontier_e) | Q(held_id__in=frontier_e)
        ).values_list("holder_id", "held_id"):
            new_e.update((holder, held))
        new_e -= enterprise_ids
        person_ids |= new_p
        enterprise_ids |= new_e
        frontier_e, frontier_p = new_e, new_p
    return enterprise_ids, person_ids


def photo_findings(application: Application) -> list[Finding]:
    """Duplicate photos against every other application's current photos, through the
    process-wide incremental index (photo_index.py); same finding shape as the engine's rule."""
    own = list(current_photos().filter(application=application).order_by("pk"))
    found = photo_index.matches(own)
    if not found:
        return []
    others = {
        e.pk: e
        for e in current_photos()
        .filter(pk__in={other_id for _f, other_id, _e in found})
        .exclude(application__status__in=NOT_SCREENED)
        .exclude(application=application)
    }
    findings = []
    for file, other_id, extra in found:
        other = others.get(other_id)
        if other is None or other.sha256 != extra.pop("other_sha256_key"):
            continue
        findings.append(
            Finding(
                application_id=application.reference,
                kind="duplicate_photo",
                severity="high",
                summary=(
                    f"照片“{file.original_name}”与申报 {other.application.reference} 的照片"
                    f"“{other.original_name}”是同一张照片。"
                ),
                evidence={
                    "file": file.file.name,
                    "other_application_id": other.application.reference,
                    "other_file": other.file.name,
                    "caption": file.caption,
                    "other_caption": other.caption,
                    "sha256": file.sha256,
                    "other_sha256": other.sha256,
                    **{k: v for k, v in extra.items() if k not in ("file", "other_file")},
                },
            )
        )
    return findings


def current_photos():  # noqa: ANN201 - queryset
    return EvidenceFile.objects.filter(
        kind=EvidenceKind.PHOTO, superseded_by__isnull=True
    ).select_related("application")


def build_bundle(application: Application) -> tuple[Bundle, dict[str, Any], dict[str, str]]:
    current_invoices = Invoice.objects.filter(superseded_by__isnull=True).exclude(
        application__status__in=NOT_SCREENED
    )
    own_invoices = list(current_invoices.filter(application=application))
    keys = Q(pk__in=[])
    for inv in own_invoices:
        keys |= Q(invoice_code=inv.invoice_code, invoice_number=inv.invoice_number)
    invoices = own_invoices + list(current_invoices.filter(keys).exclude(application=application))

    app_ids = {application.pk} | {i.application_id for i in invoices}
    applications = list(
        Application.objects.filter(pk__in=app_ids).select_related("enterprise", "programme")
    )

    usccs = {application.enterprise.uscc} | {i.seller_tax_id for i in own_invoices}
    enterprise_ids, person_ids = _neighbourhood(usccs)
    enterprise_ids |= {a.enterprise_id for a in applications}
    enterprises = list(Enterprise.objects.filter(pk__in=enterprise_ids).select_related("town"))
    uscc_of = {e.pk: e.uscc for e in enterprises}
    roles = list(
        PersonRole.objects.filter(
            person_id__in=person_ids, enterprise_id__in=enterprise_ids
        ).select_related("person")
    )
    holdings = Holding.objects.filter(holder_id__in=enterprise_ids, held_id__in=enterprise_ids)
    # Applications are known to the engine by their reference, so its summaries name them as
    # the reviewer does ("申报 QJ…"), and evidence points at them the same way.
    reference_of = {a.pk: a.reference for a in applications}

    bundle = Bundle(
        root=Path("."),
        manifest={"source": "qijia", "application": application.reference},
        enterprises=tuple(
            EnterpriseRow(
                uscc=e.uscc,
                name=e.name,
                town=e.town.name,
                industry_code=e.industry_id or "",
                address=e.address,
                phone=e.phone,
                email=e.email,
                established_on=e.established_on,
            )
            for e in enterprises
        ),
        persons=tuple(
            {
                r.person_id: PersonRow(
                    person_key=f"P{r.person_id}",
                    name=r.person.name,
                    phone=r.person.phone,
                    email=r.person.email,
                )
                for r in roles
            }.values()
        ),
        roles=tuple(
            RoleRow(
                person_key=f"P{r.person_id}",
                uscc=uscc_of[r.enterprise_id],
                role=r.role,
                share_pct=r.share_pct,
            )
            for r in roles
        ),
        holdings=tuple(
            HoldingRow(
                holder_uscc=uscc_of[h.holder_id],
                held_uscc=uscc_of[h.held_id],
                share_pct=h.share_pct,
            )
            for h in holdings
        ),
        applications=tuple(
            ApplicationRow(
                application_id=a.reference,
                uscc=a.enterprise.uscc,
                programme=a.programme.code,
                title=a.title,
                period_start=a.project_start,
                period_end=a.project_end,
                submitted_on=timezone.localdate(a.submitted_at) if a.submitted_at else None,
                amount_requested=a.amount_requested,
            )
            for a in applications
        ),
        invoices=tuple(
            InvoiceRow(
                application_id=reference_of[i.application_id],
                invoice_code=i.invoice_code,
                invoice_number=i.invoice_number,
                issued_on=i.issued_on,
                seller_tax_id=i.seller_tax_id,
                seller_name=i.seller_name,
                buyer_tax_id=i.buyer_tax_id,
                buyer_name=i.buyer_name,
                amount=i.amount,
                tax=i.tax,
            )
            for i in invoices
        ),
    )
    return bundle, {}, {}


def _reference_evidence(evidence: dict[str, Any]) -> dict[str, Any]:
    """Name the other applications (the engine knows them by reference) and add the evidence
    files' ids, for the reviewer's page."""
    enriched = dict(evidence)
    other = evidence.get("other_application_id")
    if other:
        enriched["other_reference"] = other
    for key in ("file", "other_file"):
        name = evidence.get(key)
        if name:
            file_id = EvidenceFile.objects.filter(file=name).values_list("pk", flat=True).first()
            enriched[f"{key}_id"] = file_id
    return enriched


def screen_application_now(*, application_id: int, as_of: dt.date | None = None) -> int:
    """Screen one application and store its new findings; returns how many were new."""
    application = Application.objects.select_related("enterprise").filter(pk=application_id).first()
    if application is None or application.status in NOT_SCREENED:
        return 0
    bundle, prints, digests = build_bundle(application)
    findings = [
        f
        for f in screen(bundle, as_of or timezone.localdate(), prints=prints, digests=digests)
        if f.application_id == application.reference
        and f.kind not in ("ineligible_applicant", "blacklisted_applicant")
    ] + photo_findings(application)
    created = 0
    with transaction.atomic():
        app = Application.objects.select_for_update(of=("self",)).get(pk=application_id)
        for finding in findings:
            subject = finding_subject(finding.kind, finding.evidence)[:500]
            try:
                with transaction.atomic():
                    ScreeningFinding.objects.create(
                        application=app,
                        kind=finding.kind,
                        severity=finding.severity,
                        summary=finding.summary,
                        subject=subject,
                        evidence=_json(_reference_evidence(finding.evidence)),
                    )
                created += 1
            except IntegrityError:
                continue  # found before: keep the earlier row and its disposal
        app.screened_at = timezone.now()
        app.save(update_fields=["screened_at"])
        audit_record(
            actor=None,
            action="applications.screened",
            obj=app,
            after={"findings": len(findings), "new": created},
        )
    return created


def _json(value: Any) -> Any:
    from qijia.screening.engine import _jsonable

    return _jsonable(value)
