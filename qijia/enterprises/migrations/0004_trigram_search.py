"""Trigram (pg_trgm) GIN indexes so that partial search by name or USCC (``icontains``) stays fast
at city scale. Django renders ``icontains`` on PostgreSQL as ``UPPER(col::text) LIKE UPPER(%s)``,
so the indexes are on that expression. SQLite has no pg_trgm: there the migration does nothing."""

from django.db import migrations

INDEXES = {
    "enterprise_name_trgm": "name",
    "enterprise_uscc_trgm": "uscc",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON enterprises_enterprise '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("enterprises", "0003_import_batch")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
