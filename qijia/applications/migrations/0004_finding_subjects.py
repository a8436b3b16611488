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


def rename_subjects(apps, schema_editor):  # noqa: ANN001, ANN201, ARG001 - migration signature
    finding = apps.get_model("applications", "ScreeningFinding")
    taken = set(
        finding.objects.filter(kind="duplicate_invoice")
        .exclude(subject__regex=r"^[^|]*\|[^|]*\|")
        .values_list("application_id", "subject")
    )
    old_rows = (
        finding.objects.filter(kind="duplicate_invoice", subject__regex=r"^[^|]*\|[^|]*\|")
        .order_by("pk")
        .only("pk", "application_id", "subject")
    )
    for row in old_rows:
        subject = row.subject.rsplit("|", 1)[0]
        if (row.application_id, subject) in taken:
            continue
        taken.add((row.application_id, subject))
        finding.objects.filter(pk=row.pk).update(subject=subject)

    application = apps.get_model("applications", "Application")
    photo_rows = list(
        finding.objects.filter(kind="duplicate_photo", subject__regex=r"^[^|]*\|[0-9]+\|[^|]*$")
        .order_by("pk")
        .only("pk", "application_id", "subject")
    )
    other_ids = {int(row.subject.split("|")[1]) for row in photo_rows}
    reference_of = dict(
        application.objects.filter(pk__in=other_ids).values_list("pk", "reference")
    )
    for row in photo_rows:
        file, other, other_file = row.subject.split("|")
        reference = reference_of.get(int(other))
        if reference is None:
            continue
        subject = f"{file}|{reference}|{other_file}"
        if not finding.objects.filter(
            application_id=row.application_id, kind="duplicate_photo", subject=subject
        ).exists():
            finding.objects.filter(pk=row.pk).update(subject=subject)


class Migration(migrations.Migration):
    dependencies = [("applications", "0003_referencecounter")]

    operations = [migrations.RunPython(rename_subjects, migrations.RunPython.noop)]
