"""A small name -> entry registry, the one place a scheduler or an output format is added.

Modelled on papermill's engine registry: ``REGISTRY.register(name, entry)`` and
``REGISTRY.get(name)``. An entry may also claim a family of names with ``matches`` (a predicate),
such as every Dask scheduler address ``tcp://...``; exact names are looked up first, then the
predicates in the order they were registered.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class _Matcher:
    name: str
    matches: Callable[[str], bool]
    description: str


class Registry:
    """Entries by name (in registration order), plus named matchers for families of names."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, object] = {}
        self._matchers: list[_Matcher] = []

    def register(self, name: str, entry, *, matches: Callable[[str], bool] | None = None,
                 description: str | None = None) -> None:
        """Register ``entry`` under ``name``; with ``matches``, also for every name it accepts.

        ``description`` says in words which names the matcher accepts (used in error messages).
        """
        self._entries[name] = entry
        if matches is not None:
            self._matchers.append(_Matcher(name, matches, description or name))

    def unregister(self, name: str) -> None:
        """Remove ``name`` and its matcher (if any); unknown names are ignored."""
        self._entries.pop(name, None)
        self._matchers = [m for m in self._matchers if m.name != name]

    def find(self, name: str) -> str | None:
        """The registered name that serves ``name`` (itself, or the matcher's), or ``None``."""
        if name in self._entries and not any(m.name == name for m in self._matchers):
            return name
        return next((m.name for m in self._matchers if m.matches(name)), None)

    def get(self, name: str):
        """The entry serving ``name``; ``KeyError`` when none does."""
        found = self.find(name)
        if found is None:
            raise KeyError(f"no {self.kind} registered for {name!r}")
        return self._entries[found]

    def names(self) -> tuple[str, ...]:
        """The plain names (not the matchers), in registration order."""
        matched = {m.name for m in self._matchers}
        return tuple(name for name in self._entries if name not in matched)

    def choices(self) -> list[str]:
        """The accepted names in words: ``'local'``, ..., then each matcher's description."""
        return [repr(name) for name in self.names()] + [m.description for m in self._matchers]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def one_of(choices: list[str]) -> str:
    """``"a, b or c"``."""
    return choices[0] if len(choices) == 1 else ", ".join(choices[:-1]) + " or " + choices[-1]
