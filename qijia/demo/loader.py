"""Getting generated rows into the database fast: COPY on PostgreSQL, bulk_create on SQLite.

Rows are tuples in the order of the ``columns`` given; on PostgreSQL they stream through
``cursor.copy`` (psycopg 3), on SQLite they become model instances saved in batches. Both run in
the caller's transaction, so a failure anywhere leaves nothing behind.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from django.core.management.color import no_style
from django.db import connection, models

from qijia.core import pii
from qijia.core.identifiers import mask_id_number

T = TypeVar("T")
R = TypeVar("R")

SQLITE_BATCH = 2_000


def column_names(model: type[models.Model], fields: Sequence[str]) -> list[str]:
    columns = []
    for name in fields:
        field = model._meta.get_field(name)
        if not isinstance(field, models.Field) or not field.column:
            raise ValueError(f"{model.__name__}.{name} is not a concrete column")
        columns.append(field.column)
    return columns


def copy_rows(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Write ``rows`` (tuples in ``fields`` order) to ``model``'s table; returns the count."""
    if connection.vendor == "postgresql":
        columns = ", ".join(connection.ops.quote_name(c) for c in column_names(model, fields))
        table = connection.ops.quote_name(model._meta.db_table)
        count = 0
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    batch: list[models.Model] = []
    count = 0
    for row in rows:
        batch.append(model(**dict(zip(fields, row, strict=True))))
        if len(batch) >= SQLITE_BATCH:
            model._default_manager.bulk_create(batch)
            count += len(batch)
            batch = []
    if batch:
        model._default_manager.bulk_create(batch)
        count += len(batch)
    return count


def copy_text(model: type[models.Model], fields: Sequence[str], chunks: Iterable[bytes]) -> None:
    """PostgreSQL only: stream pre-formatted COPY text (the hot path for monthly indicators)."""
    columns = ", ".join(connection.ops.quote_name(c) for c in column_names(model, fields))
    table = connection.ops.quote_name(model._meta.db_table)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for chunk in chunks:
            if chunk:
                copy.write(chunk)


@contextmanager
def bulk_load(*model_list: type[models.Model]) -> Iterator[None]:
    """On PostgreSQL, lift the tables' foreign keys, unique constraints and plain indexes for
    the load and put them back (same names, same definitions) afterwards, in the same
    transaction: one validating pass and one sorted index build per table instead of a check
    and an index insert per row. Check constraints stay. Elsewhere it does nothing.

    The tables are locked (ACCESS EXCLUSIVE) until the seed commits: fine for a seed into an
    empty database, and the reason this is not used for imports."""
    if connection.vendor != "postgresql":
        yield
        return
    quote = connection.ops.quote_name
    lifted: list[tuple[str, list[tuple[str, str]], list[tuple[str, str]]]] = []
    with connection.cursor() as cursor:
        # Earlier steps' deferred checks must run first: PostgreSQL will not alter a table
        # (nor the table its foreign keys point at) with trigger events pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for model in model_list:
            table = model._meta.db_table
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('f', 'u') ORDER BY conname",
                [table],
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint "
                "WHERE conrelid = %s::regclass) ORDER BY indexname",
                [table, table],
            )
            indexes = cursor.fetchall()
            for name, _ in constraints:
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {quote(name)}")
            lifted.append((table, constraints, indexes))
    yield
    with connection.cursor() as cursor:
        for table, constraints, indexes in lifted:
            for _, definition in indexes:
                cursor.execute(definition)
            # Unique constraints first: foreign keys of other tables may rely on them.
            for name, definition in sorted(constraints, key=lambda c: "FOREIGN" in c[1]):
                cursor.execute(
                    f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
                )
            cursor.execute(f"ANALYZE {quote(table)}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's foreign keys are deferred


def next_id(model: type[models.Model]) -> int:
    """The first free primary key: rows get explicit ids so later rows can point at them."""
    last = model._default_manager.aggregate(m=models.Max("pk"))["m"]
    return (last or 0) + 1


def reset_sequences(*model_list: type[models.Model]) -> None:
    """After explicit ids, move the id sequences past them so ORM inserts keep working."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def protect_id_numbers(numbers: list[str]) -> list[tuple[str, str, str]]:
    """(match hash, encrypted copy, mask) for each identity number: what a Person row stores."""
    return [(pii.match_hash(n), pii.encrypt(n), mask_id_number(n)) for n in numbers]


def parallel_map(fn: Callable[[T], R], items: Iterable[T], *, workers: int) -> Iterator[R]:
    """``map`` over worker processes (fork, results in input order), or in-process for 0 workers.

    Fork keeps the configured Django settings and keys in the workers; they never touch the
    database connection (pool workers leave through ``os._exit``, so nothing closes it)."""
    if workers <= 0:
        yield from map(fn, items)
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(processes=workers) as pool:
        yield from pool.imap(fn, items, chunksize=1)


def worker_count(requested: int | None) -> int:
    if requested is not None:
        return max(0, requested)
    return max(1, min(4, (os.cpu_count() or 1)))
