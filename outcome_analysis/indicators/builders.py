"""The builders of the indicators, registered by registry id.

A builder is a function ``(b, entry) -> list[_Part]``: the unit rows of one indicator, from the shared
arrays ``b`` (:class:`base._Base`) and the registry entry. The definitions (``indicators.definitions``)
register theirs with :func:`builder`; the engine finds them with :func:`builder_of`.
"""
from __future__ import annotations

from collections.abc import Callable

from . import registry

_BUILDERS: dict[str, Callable] = {}


def builder(*ids: str) -> Callable[[Callable], Callable]:
    """Register the decorated function as the builder of the registry ids ``ids`` (one function may
    build several indicators that count the same way). An id has one builder: a second raises."""
    def register(function: Callable) -> Callable:
        for indicator in ids:
            if indicator in _BUILDERS:
                raise ValueError(f"indicator {indicator!r} already has a builder: {_BUILDERS[indicator].__qualname__}")
            _BUILDERS[indicator] = function
        return function
    return register


def builder_of(indicator: str) -> Callable | None:
    """The builder registered for ``indicator``, or ``None`` (a context item)."""
    return _BUILDERS.get(indicator)


def computable() -> tuple[str, ...]:
    """The ids with a builder, in registry order."""
    return tuple(i for i in registry.REGISTRY if i in _BUILDERS)
