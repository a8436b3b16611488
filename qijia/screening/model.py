"""Rows of an integrity bundle and the findings the engine produces.

Plain frozen dataclasses (no Django): the loader (bundle.py) builds them, the detectors read them,
and the platform can build the same rows from its own database to screen with the same rules.
Values are kept as they appear in the file (trimmed); detectors normalise identifiers themselves so
that evidence can always be traced back to the source row. ``line`` is the 1-based line number in
the source CSV (the header is line 1), 0 for rows that did not come from a file.
"""

from __future__ import annotations

import datetime as dt
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

#: A progress bar for a long stage, called as ``progress(iterable, total=..., desc=..., unit=...)``
#: (tqdm's way); the CLI passes one, library callers usually none.
Progress = Callable[..., Iterable[Any]]

ROLES = (
    "legal_representative",
    "shareholder",
    "director",
    "supervisor",
    "manager",
    "finance_contact",
    "contact",
)
REGISTRY_LISTS = ("ineligible", "blacklist")

KINDS = (
    "invalid_uscc",
    "ineligible_applicant",
    "blacklisted_applicant",
    "duplicate_photo",
    "duplicate_invoice",
    "invoice_buyer_mismatch",
    "invoice_outside_period",
    "related_party_supplier",
)
SEVERITIES = ("high", "medium", "low")


@dataclass(frozen=True, slots=True)
class EnterpriseRow:
    uscc: str
    name: str
    town: str = ""
    industry_code: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    established_on: dt.date | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class PersonRow:
    person_key: str
    name: str
    id_number: str = ""
    phone: str = ""
    email: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True)
class RoleRow:
    person_key: str
    uscc: str
    role: str
    share_pct: Decimal | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class HoldingRow:
    holder_uscc: str
    held_uscc: str
    share_pct: Decimal | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class RegistryRow:
    uscc: str
    list: str  # "ineligible" or "blacklist"
    category: str
    reason: str
    source: str
    valid_from: dt.date
    valid_to: dt.date | None = None  # None = open-ended
    line: int = 0


@dataclass(frozen=True, slots=True)
class ApplicationRow:
    application_id: str
    uscc: str
    programme: str = ""
    title: str = ""
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    submitted_on: dt.date | None = None
    amount_requested: Decimal | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    application_id: str
    invoice_code: str
    invoice_number: str
    issued_on: dt.date | None = None
    seller_tax_id: str = ""
    seller_name: str = ""
    buyer_tax_id: str = ""
    buyer_name: str = ""
    amount: Decimal | None = None
    tax: Decimal | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class PhotoRow:
    application_id: str
    file: str  # relative to the bundle root, as written in photos.csv (see clean_relative)
    caption: str = ""
    line: int = 0


def clean_relative(rel: str) -> str:
    """A photo path as written (maybe ``./a\\b.jpg``) as a clean POSIX path (``a/b.jpg``)."""
    return str(PurePosixPath(rel.strip().replace("\\", "/")))


_UTF8_NAME = 0x800  # general purpose flag bit 11: the member name is UTF-8


def open_zip(path: Path) -> zipfile.ZipFile:
    """Open a bundle .zip with member names as their authors wrote them.

    A name without the UTF-8 flag is read by zipfile as CP437, the format's old default. Chinese
    Windows writes such names in GBK and many other tools write UTF-8 without setting the flag,
    so ``照片/现场1.jpg`` would not be found under the name photos.csv gives. Those names are
    decoded again from their bytes: UTF-8 when they are valid UTF-8, else GB18030 (a superset of
    GBK), else left as CP437. zipfile's own ``metadata_encoding`` applies one encoding to every
    name, which a zip of mixed origin defeats, hence the per-name choice here. zipfile checks
    each member's local header against ``orig_filename``, which is kept.
    """
    zf = zipfile.ZipFile(path)
    for info in zf.infolist():
        if info.flag_bits & _UTF8_NAME:
            continue
        try:
            raw = info.filename.encode("cp437")
        except UnicodeEncodeError:  # already decoded with another metadata encoding
            continue
        for encoding in ("utf-8", "gb18030"):
            try:
                name = raw.decode(encoding)
            except UnicodeDecodeError:
                continue
            if name != info.filename:
                del zf.NameToInfo[info.filename]
                info.filename = name
                zf.NameToInfo[name] = info
            break
    return zf


@dataclass(frozen=True)
class Bundle:
    """Every row of one bundle plus where it came from (a folder or a .zip of one).

    ``root`` is the folder, or the .zip file; ``prefix`` is the folder inside the zip that holds
    ``manifest.json`` ("" when it sits at the top). Use :meth:`read_bytes` to get a photo's content
    either way.
    """

    root: Path
    manifest: dict[str, Any]
    enterprises: tuple[EnterpriseRow, ...] = ()
    persons: tuple[PersonRow, ...] = ()
    roles: tuple[RoleRow, ...] = ()
    holdings: tuple[HoldingRow, ...] = ()
    registry: tuple[RegistryRow, ...] = ()
    applications: tuple[ApplicationRow, ...] = ()
    invoices: tuple[InvoiceRow, ...] = ()
    photos: tuple[PhotoRow, ...] = ()
    prefix: str = ""
    _zip: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_zip(self) -> bool:
        return self.root.is_file()

    def local_path(self, rel: str) -> Path | None:
        """The file on disk for a folder bundle; None for a zip bundle."""
        if self.is_zip:
            return None
        return self.root.joinpath(*PurePosixPath(clean_relative(rel)).parts)

    def size(self, rel: str) -> int:
        """Bytes of a file named relative to the bundle root, without reading it (OSError/KeyError
        if absent); for a zip member, the size its header declares, which zipfile holds it to."""
        path = self.local_path(rel)
        if path is not None:
            return path.stat().st_size
        with self._zipfile() as zf:
            return zf.getinfo(self.prefix + clean_relative(rel)).file_size

    def read_bytes(self, rel: str) -> bytes:
        """Content of a file named relative to the bundle root (raises OSError/KeyError if absent)."""
        path = self.local_path(rel)
        if path is not None:
            return path.read_bytes()
        with self._zipfile() as zf:
            return zf.read(self.prefix + clean_relative(rel))

    @contextmanager
    def _zipfile(self) -> Iterator[zipfile.ZipFile]:
        """The bundle's zip, opened once and used by one thread at a time."""
        with self._zip.setdefault("lock", threading.Lock()):
            zf = self._zip.get("zf")
            if zf is None:
                zf = self._zip["zf"] = open_zip(self.root)
            yield zf


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding on one application; ``evidence`` holds at least the spec's keys for the kind."""

    application_id: str
    kind: str
    severity: str
    summary: str
    evidence: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "application_id": self.application_id,
            "kind": self.kind,
            "severity": self.severity,
            "summary": self.summary,
            "evidence": self.evidence,
        }
