"""Seed the category code list and the change counter; on PostgreSQL make versions and evidence
append-only and entries undeletable (entries change only through new versions)."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION registry_refuse_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '%% is append-only (%% refused)', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER registry_version_append_only BEFORE UPDATE OR DELETE ON registry_entryversion
  FOR EACH ROW EXECUTE FUNCTION registry_refuse_change();
CREATE TRIGGER registry_evidence_append_only BEFORE UPDATE OR DELETE ON registry_evidence
  FOR EACH ROW EXECUTE FUNCTION registry_refuse_change();
CREATE TRIGGER registry_entry_no_delete BEFORE DELETE ON registry_entry
  FOR EACH ROW EXECUTE FUNCTION registry_refuse_change();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS registry_version_append_only ON registry_entryversion;
DROP TRIGGER IF EXISTS registry_evidence_append_only ON registry_evidence;
DROP TRIGGER IF EXISTS registry_entry_no_delete ON registry_entry;
DROP FUNCTION IF EXISTS registry_refuse_change();
"""


def seed(apps, schema_editor):
    from qijia.registry.categories import ensure_categories

    ensure_categories(apps.get_model("registry", "Category"))
    apps.get_model("registry", "ChangeCounter").objects.get_or_create(id=1)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def unseed(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
