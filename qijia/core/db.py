"""Fixed SQL for the few read paths that run hundreds of times a second.

The ORM compiles a queryset into SQL on every evaluation, and Django sends parameters inlined in
the text so PostgreSQL plans every statement again. For a one-row lookup with joins both cost more
than answering it: on the registry's single check the ORM compile was about a third of the
request's Python time, and planning 0.3 ms of PostgreSQL's 0.37 ms per lookup. ``execute`` runs a
constant statement as a server-side prepared statement (psycopg's ``prepare=True``: parsed and
planned once per connection); ``select_joined`` writes a SELECT once per process and builds
ordinary model instances from its rows, with their foreign-key objects attached, so callers keep
working with models. Use these only on measured hot paths; everything else uses the ORM.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)


def execute(sql: str, params: Sequence[Any]) -> list[tuple]:
    """Run one constant statement in the current connection and transaction; rows if any.

    On PostgreSQL the statement is prepared on the connection (psycopg keeps the most recent
    100), elsewhere it goes through Django's cursor. ``sql`` must not be built from data.
    """
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, list(params))
            return cursor.fetchall() if cursor.description else []
    import psycopg

    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        # Django's cursors bind on the client (no prepared statements); this one binds on the
        # server, so the plan is reused.
        cursor.execute(sql, list(params), prepare=True)
        return cursor.fetchall() if cursor.description else []


@functools.cache
def _statement(
    model: type[models.Model], related: tuple[str, ...], where: str, order_by: str
) -> tuple[str, list[tuple[str | None, type[models.Model], list[str]]], list[tuple[list, Any]]]:
    qn = connection.ops.quote_name
    parts: list[tuple[str | None, type[models.Model], list[str]]] = [
        (None, model, [f.attname for f in model._meta.concrete_fields])
    ]
    columns = [f"t.{qn(f.column)}" for f in model._meta.concrete_fields]
    joins = []
    for n, name in enumerate(related):
        field = model._meta.get_field(name)
        assert isinstance(field, models.ForeignKey), f"{name} is not a foreign key"
        target = field.related_model
        assert not isinstance(target, str)  # "self" and lazy names are resolved once apps load
        alias = f"r{n}"
        columns += [f"{alias}.{qn(f.column)}" for f in target._meta.concrete_fields]
        joins.append(
            f"JOIN {qn(target._meta.db_table)} {alias} "
            f"ON {alias}.{qn(target._meta.pk.column)} = t.{qn(field.column)}"
        )
        parts.append((name, target, [f.attname for f in target._meta.concrete_fields]))
    for _name, part_model, _names in parts:
        # Rows are handed to from_db as fetched: fields that convert database values (JSON,
        # custom types) would need Django's converters, so they are refused here.
        if any(hasattr(f, "from_db_value") for f in part_model._meta.concrete_fields):
            raise TypeError(f"{part_model.__name__} has converted fields; use the ORM")
    sql = f"SELECT {', '.join(columns)} FROM {qn(model._meta.db_table)} t {' '.join(joins)}"
    sql += f" WHERE {where}"
    if order_by:
        sql += f" ORDER BY {order_by}"
    # psycopg returns every remaining field type as Python needs it; SQLite returns datetimes as
    # naive text, decimals as floats and booleans as integers, so its backend converters run.
    converters = []
    if connection.vendor != "postgresql":
        for _name, part_model, _names in parts:
            for f in part_model._meta.concrete_fields:
                col = f.get_col(part_model._meta.db_table)
                # Field.get_db_converters exists in Django but is missing from django-stubs.
                own = f.get_db_converters(connection)  # type: ignore[attr-defined]
                converters.append((connection.ops.get_db_converters(col) + own, col))
    return sql, parts, converters


def _convert(value: Any, converters: list, expression: Any) -> Any:
    for converter in converters:
        value = converter(value, expression, connection)
    return value


def select_joined(
    model: type[M],
    where: str,
    params: Sequence[Any],
    *,
    related: tuple[str, ...] = (),
    order_by: str = "",
) -> list[M]:
    """``model`` rows matching ``where`` (SQL over alias ``t``; joined tables are ``r0``, ``r1``…
    in the order of ``related``), each with its ``related`` foreign keys loaded, as
    ``select_related`` would. ``where`` and ``order_by`` must be constant strings: the statement is
    built once per distinct text."""
    sql, parts, converters = _statement(model, related, where, order_by)
    own_names, joined = parts[0][2], parts[1:]  # parts[0] is ``model`` itself
    out: list[M] = []
    for row in execute(sql, params):
        if converters:
            row = tuple(_convert(value, *pair) for value, pair in zip(row, converters, strict=True))
        obj = model.from_db(connection.alias, own_names, row[: len(own_names)])
        start = len(own_names)
        for name, part_model, names in joined:
            instance = part_model.from_db(connection.alias, names, row[start : start + len(names)])
            start += len(names)
            obj._state.fields_cache[name] = instance
        out.append(obj)
    return out
