"""Writes to the registry. Each service checks the actor's permission, runs in one transaction,
locks what it changes, appends an EntryVersion with the next change sequence, writes the audit
event in the same transaction, and leaves notifications to commit.

Modules: ``_common`` (the change counter, version rows, audited fields, evidence checks and
storage), ``entries`` (create, amend, revoke, add evidence), ``csv_import`` (all rows or none),
``objections`` (lodge, answer), ``tokens`` (create, revoke) and ``scheduled`` (expiry, sealing
the query log). The names below are the package's interface; a test that replaces a helper
patches the submodule that looks it up.
"""

from ._common import (
    AUDITED_FIELDS,
    EVIDENCE_TYPES,
    MAX_EVIDENCE_FILES,
    CheckedFile,
    actor_label,
    inspect_evidence,
)
from .csv_import import CSV_COLUMNS, MAX_IMPORT_ROWS, REQUIRED_COLUMNS, entries_import_csv
from .entries import AMENDABLE, entry_add_evidence, entry_amend, entry_create, entry_revoke
from .objections import objection_answer, objection_lodge
from .scheduled import checklog_digest, checklog_seal, registry_expire
from .tokens import token_create, token_revoke

__all__ = [
    "AMENDABLE",
    "AUDITED_FIELDS",
    "CSV_COLUMNS",
    "EVIDENCE_TYPES",
    "MAX_EVIDENCE_FILES",
    "MAX_IMPORT_ROWS",
    "REQUIRED_COLUMNS",
    "CheckedFile",
    "actor_label",
    "checklog_digest",
    "checklog_seal",
    "entries_import_csv",
    "entry_add_evidence",
    "entry_amend",
    "entry_create",
    "entry_revoke",
    "inspect_evidence",
    "objection_answer",
    "objection_lodge",
    "registry_expire",
    "token_create",
    "token_revoke",
]
