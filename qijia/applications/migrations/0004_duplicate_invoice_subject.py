"""A duplicate-invoice finding's subject is now the invoice (`code|number`), not the pair
(`code|number|other application`): one finding per application and invoice, as the findings
contract says ("no repeats for the same ... invoice").

Existing rows are renamed in place so their disposal stays with them and a re-screening does not
add a second finding for an invoice already found. When an application has several rows for one
invoice (one per other holder), the oldest takes the new subject and the others keep theirs:
findings are records of what a reviewer saw and decided, and are never deleted.
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


class Migration(migrations.Migration):
    dependencies = [("applications", "0003_referencecounter")]

    operations = [migrations.RunPython(rename_subjects, migrations.RunPython.noop)]
