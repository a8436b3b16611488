"""The seed step registry: ordering, name clashes, deterministic per-step randomness."""

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from qijia.demo.steps import (
    SeedContext,
    register_step,
    registered_steps,
    unregister_step,
)


@pytest.fixture
def temporary_steps() -> Iterator[Callable[..., Any]]:
    names: list[str] = []

    def add(name, fn, order):
        names.append(name)
        return register_step(name, fn, order)

    yield add
    for name in names:
        unregister_step(name)


def _first(ctx):
    return None


def _second(ctx):
    return None


def test_steps_run_in_order_then_by_name_around_the_foundation_steps(temporary_steps):
    temporary_steps("test.late", _first, 300)
    temporary_steps("test.b_middle", _first, 150)
    temporary_steps("test.a_middle", _second, 150)
    temporary_steps("test.early", _second, 5)
    names = [s.name for s in registered_steps()]
    assert names.index("test.early") < names.index("demo.org_units")
    assert names.index("demo.org_units") < names.index("demo.registry")
    assert names.index("demo.registry") < names.index("test.a_middle")
    assert names.index("test.a_middle") < names.index("test.b_middle") < names.index("test.late")


def test_registering_the_same_step_twice_is_harmless(temporary_steps):
    temporary_steps("test.same", _first, 200)
    temporary_steps("test.same", _first, 200)
    assert [s.name for s in registered_steps()].count("test.same") == 1


def test_a_second_function_under_a_taken_name_is_refused(temporary_steps):
    temporary_steps("test.clash", _first, 200)
    with pytest.raises(ValueError, match="already registered"):
        register_step("test.clash", _second, 200)
    with pytest.raises(ValueError, match="already registered"):
        register_step("test.clash", _first, 201)


def test_step_randomness_depends_on_seed_and_step_name_only():
    a = SeedContext(scale="demo", seed=7, stdout=io.StringIO())
    b = SeedContext(scale="city", seed=7, stdout=io.StringIO())
    c = SeedContext(scale="demo", seed=8, stdout=io.StringIO())
    draw = lambda ctx, name: [ctx.rng(name).random() for _ in range(3)]  # noqa: E731
    assert draw(a, "x") == draw(b, "x")
    assert draw(a, "x") != draw(a, "y")
    assert draw(a, "x") != draw(c, "x")


def test_pick_chooses_the_value_for_the_scale():
    assert SeedContext(scale="demo", seed=1).pick(demo=3, city=30) == 3
    assert SeedContext(scale="city", seed=1).pick(demo=3, city=30) == 30


def test_unknown_scale_is_refused():
    with pytest.raises(ValueError, match="unknown scale"):
        SeedContext(scale="province", seed=1)
