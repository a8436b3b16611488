"""The seed step registry: how each context contributes its part of the demo city.

A context registers a step from its ``AppConfig.ready()``::

    from qijia.demo.steps import SeedContext, register_step

    def seed_blacklist(ctx: SeedContext) -> None:
        rnd = ctx.rng("registry.blacklist")           # deterministic for ctx.seed
        enterprises = Enterprise.objects.order_by("id")[: ctx.pick(demo=20, city=2_000)]
        ...

    register_step("registry.blacklist", seed_blacklist, order=200)

Steps run in ascending ``order`` (ties by name), all inside one transaction (each step in
its own savepoint), after the foundation steps below. Orders in use (leave gaps):

    10  demo.org_units        bureau sections, leadership, inspection, partner departments
    100 demo.registry         enterprises, persons, roles, holdings, monthly indicators
    200+                      later contexts (registry lists, programmes, applications, ...)

A step must be deterministic for ``ctx.seed`` (draw randomness only from ``ctx.rng(name)``, order
every query it samples from) and must not assume it runs on an empty database beyond what earlier
steps created: ``qijia seed`` refuses to run twice unless told to, but tests call steps directly.
Registering the same name twice with the same function is a no-op (module reloads, test
collection); with a different function it is an error, so two contexts cannot silently shadow
each other.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

from django.db import connection

T = TypeVar("T")

SCALES = ("demo", "city")


@dataclass
class SeedContext:
    """What a step knows about the run: the scale, the seed, and where to report progress."""

    scale: str
    seed: int
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    show_progress: bool = True
    #: Last month of the indicator window (first day); default: December of last year.
    end_month: dt.date | None = None
    #: Worker processes for CPU-bound generation (None: one per core, 0: in-process).
    workers: int | None = None
    #: Free-form notes steps leave for later steps (e.g. ids of the linked groups); keyed by step.
    shared: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ValueError(f"unknown scale {self.scale!r}; expected one of {SCALES}")
        if self.end_month is None:
            today = dt.date.today()
            self.end_month = dt.date(today.year - 1, 12, 1)

    @property
    def is_city(self) -> bool:
        return self.scale == "city"

    @property
    def is_postgres(self) -> bool:
        return connection.vendor == "postgresql"

    def pick(self, *, demo: T, city: T) -> T:
        """The value for this scale: ``ctx.pick(demo=300, city=200_000)``."""
        return city if self.is_city else demo

    def rng(self, name: str) -> random.Random:
        """A generator seeded by (seed, name): steps stay deterministic and independent of each
        other, so adding a step never changes what an existing step generates."""
        digest = hashlib.sha256(f"{self.seed}:{name}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def progress(
        self, iterable: Iterable[T], *, total: int | None = None, desc: str = ""
    ) -> Iterator[T]:
        """Wrap ``iterable`` in a tqdm bar on this run's output (silent when progress is off)."""
        if not self.show_progress:
            yield from iterable
            return
        from tqdm import tqdm

        yield from tqdm(
            iterable,
            total=total,
            desc=desc,
            file=self.stdout,
            unit="行",
            unit_scale=True,
            dynamic_ncols=True,
            leave=True,
        )

    def bar(self, *, total: int, desc: str) -> Any:
        """A tqdm bar to ``update(n)`` by hand, for work that arrives in chunks."""
        from tqdm import tqdm

        return tqdm(
            total=total,
            desc=desc,
            file=self.stdout,
            unit="行",
            unit_scale=True,
            dynamic_ncols=True,
            disable=not self.show_progress,
        )

    def log(self, message: str) -> None:
        self.stdout.write(message + "\n")
        self.stdout.flush()


StepFn = Callable[[SeedContext], Any]


@dataclass(frozen=True)
class SeedStep:
    name: str
    fn: StepFn
    order: int


_REGISTRY: dict[str, SeedStep] = {}


def register_step(name: str, fn: StepFn, order: int) -> SeedStep:
    """Add ``fn`` to the demo seed under ``name``, to run at position ``order``."""
    if not name or not isinstance(order, int):
        raise ValueError("a seed step needs a name and an integer order")
    existing = _REGISTRY.get(name)
    if existing is not None:
        same_fn = (existing.fn.__module__, existing.fn.__qualname__) == (
            fn.__module__,
            fn.__qualname__,
        )
        if not same_fn or existing.order != order:
            raise ValueError(f"seed step {name!r} is already registered by {existing.fn!r}")
    step = SeedStep(name=name, fn=fn, order=order)
    _REGISTRY[name] = step
    return step


def unregister_step(name: str) -> None:
    """Remove a step (tests that register temporary steps clean up with this)."""
    _REGISTRY.pop(name, None)


def registered_steps() -> list[SeedStep]:
    """Every registered step in the order ``qijia seed`` runs them."""
    return sorted(_REGISTRY.values(), key=lambda s: (s.order, s.name))


@dataclass(frozen=True)
class StepResult:
    name: str
    seconds: float


def run_steps(ctx: SeedContext, *, steps: Iterable[SeedStep] | None = None) -> list[StepResult]:
    """Run ``steps`` (default: every registered one) in order, all in one transaction: a seed
    that fails anywhere leaves nothing behind, and the error names the step."""
    import time

    from django.db import transaction

    results: list[StepResult] = []
    with transaction.atomic():
        for step in registered_steps() if steps is None else steps:
            ctx.log(f"▶ {step.name}")
            started = time.perf_counter()
            try:
                with transaction.atomic():
                    step.fn(ctx)
            except Exception as exc:
                raise SeedStepError(step.name, exc) from exc
            elapsed = time.perf_counter() - started
            ctx.log(f"  {step.name}: {elapsed:.1f} s")
            results.append(StepResult(step.name, elapsed))
    return results


class SeedStepError(RuntimeError):
    def __init__(self, step: str, cause: BaseException) -> None:
        super().__init__(f"种子数据步骤 {step} 失败：{cause}")
        self.step = step
