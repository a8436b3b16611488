"""Search uses ``name LIKE`` for text without Latin letters (Chinese has no case, and skipping
UPPER() makes even an unindexable 1–2 character search about twice as fast) and ``uscc LIKE`` on
the upper-case stored code, so the trigram indexes must also cover the plain columns. The UPPER(uscc)
index of 0004 is no longer used by any query and goes. PostgreSQL only."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS enterprise_name_plain_trgm ON enterprises_enterprise "
        "USING gin (name gin_trgm_ops)"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS enterprise_uscc_plain_trgm ON enterprises_enterprise "
        "USING gin (uscc gin_trgm_ops)"
    )
    schema_editor.execute("DROP INDEX IF EXISTS enterprise_uscc_trgm")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS enterprise_name_plain_trgm")
    schema_editor.execute("DROP INDEX IF EXISTS enterprise_uscc_plain_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS enterprise_uscc_trgm ON enterprises_enterprise "
        'USING gin ((UPPER("uscc"::text)) gin_trgm_ops)'
    )


class Migration(migrations.Migration):
    dependencies = [("enterprises", "0004_trigram_search")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
