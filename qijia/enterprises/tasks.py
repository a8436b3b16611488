from __future__ import annotations

from celery import shared_task

from qijia.core import context


@shared_task(name="enterprises.process_import")
def process_import(batch_id: int) -> str:
    """Check and apply an uploaded import file (see imports/service.py)."""
    from .imports import import_process

    token = context.bind(context.RequestContext(channel="task"))
    try:
        return import_process(batch_id=batch_id).status
    finally:
        context.reset(token)
