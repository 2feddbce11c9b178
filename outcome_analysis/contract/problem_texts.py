"""The problem catalogue: what a delivery problem says, in Dutch and English.

``data/problems.yaml`` maps each :attr:`Problem.kind <outcome_analysis.errors.Problem.kind>` to a
template per language; :attr:`Problem.params` fills its ``{placeholders}``.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

LANGUAGES = ("nl", "en")
_CATALOGUE = Path(__file__).parents[1] / "data" / "problems.yaml"


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """``{kind: {"nl": template, "en": template}}`` from ``data/problems.yaml``."""
    return yaml.safe_load(_CATALOGUE.read_text(encoding="utf-8")) or {}


def render(problem, lang: str = "nl") -> str:
    """The problem's message in ``lang``; ``problem.expected`` when its kind is not catalogued.

    Raises
    ------
    ValueError
        For a language other than ``"nl"`` or ``"en"``.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {lang!r}")
    entry = catalogue().get(problem.kind or "")
    if not entry or lang not in entry:
        return problem.expected
    return entry[lang].format(**dict(problem.params))
