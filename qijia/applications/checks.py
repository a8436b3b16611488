"""The one place the lifecycle asks the ineligibility registry (#39).

Called at submission, approval and payment (and by the policy calculator). Keeping it behind one
function means the lifecycle's rule "a listing blocks" has one definition, and tests can see every
call in the audit chain (the registry records each check as a read).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Listing:
    """A registry entry that applies, reduced to what the lifecycle shows and stores."""

    entry_id: int
    list: str
    category: str
    reason: str
    source: str
    valid_from: dt.date
    valid_to: dt.date | None

    def describe(self) -> str:
        window = f"{self.valid_from}起" + (f"至{self.valid_to}" if self.valid_to else "")
        return f"{self.category}（{self.source}，{window}）：{self.reason}"

    def as_json(self) -> dict[str, Any]:
        return {
            "entry_id": self.entry_id,
            "list": self.list,
            "category": self.category,
            "reason": self.reason,
            "source": self.source,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
        }


def registry_listings(*, uscc: str, on: dt.date) -> list[Listing]:
    """The registry entries that make ``uscc`` ineligible on ``on``; empty means clean.

    Asked as the platform (actor None): enterprise users may not query the registry themselves,
    yet their own submission must be checked. The registry audits the question either way.
    """
    from qijia.registry.selectors import registry_check

    return [
        Listing(
            entry_id=e.pk,
            list=e.list,
            category=e.category.name if e.category_id else "",
            reason=e.reason,
            source=e.source.name if e.source_id else "",
            valid_from=e.valid_from,
            valid_to=e.valid_to,
        )
        for e in registry_check(uscc=uscc, on=on, actor=None)
    ]
