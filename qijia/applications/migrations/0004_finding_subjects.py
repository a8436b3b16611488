"""A duplicate-invoice finding's subject is now the invoice (`code|number`), not the pair
(`code|number|other application`): one finding per application and invoice, as the findings
contract says ("no repeats for the same ... invoice").

Existing rows are renamed in place so their disposal stays with them and a re-screening does not
add a second finding for an invoice already found. When an application has several rows for one
invoice (one per other holder), the oldest takes the new subject and the others keep theirs:
findings are records of what a reviewer saw and decided, and are never deleted.

The engine now also knows the platform's applications by reference rather than by primary key, so
a duplicate photo's subject (`file|other application|other file`) names the other application by
its reference; stored photo subjects are renamed the same way.
"""

from django.db import migrations


OLD_INVOICE = r"^[^|]*\|[^|]*\|"  # code|number|other application id
OLD_PHOTO = r"^[^|]*\|[0-9]+\|[^|]*$"  # file|other application id|other file


def rename_subjects(apps, schema_editor):  # noqa: ANN001, ANN201, ARG001 - migration signature
    finding = apps.get_model("applications", "ScreeningFinding")
    application = apps.get_model("applications", "Application")
    kinds = ("duplicate_invoice", "duplicate_photo")
    taken = set(
        finding.objects.filter(kind__in=kinds).values_list("application_id", "kind", "subject")
    )
    old_invoices = finding.objects.filter(kind=kinds[0], subject__regex=OLD_INVOICE)
    old_photos = list(finding.objects.filter(kind=kinds[1], subject__regex=OLD_PHOTO))
    reference_of = dict(
        application.objects.filter(
            pk__in={int(row.subject.split("|")[1]) for row in old_photos}
        ).values_list("pk", "reference")
    )

    def new_subject(row) -> str | None:  # noqa: ANN001
        if row.kind == kinds[0]:
            return row.subject.rsplit("|", 1)[0]
        file, other, other_file = row.subject.split("|")
        reference = reference_of.get(int(other))
        return f"{file}|{reference}|{other_file}" if reference else None

    for row in sorted([*old_invoices, *old_photos], key=lambda r: r.pk):
        subject = new_subject(row)
        if subject is None or (row.application_id, row.kind, subject) in taken:
            continue
        taken.add((row.application_id, row.kind, subject))
        finding.objects.filter(pk=row.pk).update(subject=subject)


class Migration(migrations.Migration):
    dependencies = [("applications", "0003_referencecounter")]

    operations = [migrations.RunPython(rename_subjects, migrations.RunPython.noop)]
