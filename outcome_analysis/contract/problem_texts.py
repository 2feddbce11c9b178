"""The problem catalogue: what a delivery problem says, in Dutch and English.

``data/texts/problems.yaml`` maps each :attr:`Problem.kind <outcome_analysis.errors.Problem.kind>` to a
template per language; :attr:`Problem.params` fills its ``{placeholders}``.
"""
from __future__ import annotations

from functools import lru_cache

from outcome_analysis import texts


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """``{kind: {"nl": template, "en": template}}`` from ``data/texts/problems.yaml`` (read once; do not modify)."""
    return texts.load("problems")


def render(problem, lang: str = "nl") -> str:
    """The problem's message in ``lang``; ``problem.expected`` when its kind is not catalogued.

    Raises
    ------
    outcome_analysis.texts.LanguageError
        (a ``ValueError``) for a language other than ``"nl"`` or ``"en"``.
    """
    texts.check_lang(lang)
    entry = catalogue().get(problem.kind or "")
    if not entry or lang not in entry:
        return problem.expected
    return entry[lang].format(**dict(problem.params))
