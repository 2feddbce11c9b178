"""The text catalogue: every user-facing string, Dutch and English, read from YAML in one way.

Each area has one file ``outcome_analysis/data/texts/<area>.yaml``:

- ``report``: the reports' vocabulary (cover, contents, tables, statuses, comparator) and the
  institution report's texts (section ``story``);
- ``problems``: the loader's problem catalogue (one template per problem kind and language);
- ``dialogue``: the question bank of the kwaliteitsgesprek;
- ``conversation``: the institution report's first page, "Voor het gesprek" (its points and its
  question bank per indicator family);
- one file per further module that speaks to a reader, named after it (``story``, ``overview``,
  ``methods``, ``explorer``, ``plots``, ``batch``, ``casemix``, ``registry``, ``validation``,
  ``counted``, ``short`` (the short edition of the institution report), ...; the folder lists them
  all).

A file keyed by language holds the same keys under ``nl`` and ``en``; :func:`for_lang` hands a
fresh copy of one language. The language asked for is checked here and nowhere else
(:func:`check_lang`), so "unknown language" reads the same from every entry point.

>>> for_lang("report", "en")["period"]
'Period'
>>> for_lang("report", "nl", "status")["words"]["verborgen"]
'verborgen'
>>> check_lang("fr")
Traceback (most recent call last):
...
outcome_analysis.texts.LanguageError: unknown report language 'fr'; use one of ('nl', 'en')
"""
from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml

from outcome_analysis.errors import OutcomeAnalysisError

#: the report languages: Dutch (default) and English.
LANGS = ("nl", "en")
TEXTS_DIR = Path(__file__).resolve().parent / "data" / "texts"


class LanguageError(OutcomeAnalysisError, ValueError):
    """A language outside :data:`LANGS`, or a text area that does not exist."""


def check_lang(lang: str, error: type[Exception] = LanguageError) -> str:
    """``lang`` when it is one of :data:`LANGS`; else ``error`` (a module's own error class, which
    should subclass ``ValueError``) naming the languages there are."""
    if lang not in LANGS:
        raise error(f"unknown report language {lang!r}; use one of {LANGS}")
    return lang


@functools.lru_cache(maxsize=None)
def _read(area: str) -> dict:
    path = TEXTS_DIR / f"{area}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in TEXTS_DIR.glob("*.yaml"))
        raise LanguageError(f"no text area {area!r}; there are {known}")
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def load(area: str) -> dict[str, Any]:
    """The whole of ``data/texts/<area>.yaml`` (a fresh deep copy; the file is read once)."""
    return copy.deepcopy(_read(area))


def for_lang(area: str, lang: str, section: str | None = None, *,
             error: type[Exception] = LanguageError) -> dict[str, Any]:
    """The texts of ``area`` in ``lang`` (top-level key ``lang``, or ``section`` -> ``lang``); a fresh copy.

    Raises ``error`` (default :class:`LanguageError`) for an unknown language.
    """
    check_lang(lang, error)
    raw = _read(area)
    part = raw[section] if section else raw
    return copy.deepcopy(part[lang])


def languages_agree(tree: Any, where: str = "") -> list[str]:
    """Where a language-keyed mapping in ``tree`` has different keys in ``nl`` and ``en`` (empty: none).

    Used by the test that holds every text file to the same keys in both languages.
    """
    out: list[str] = []
    if isinstance(tree, dict):
        if set(LANGS) <= set(tree) and all(isinstance(tree[lang], dict) for lang in LANGS):
            nl, en = (set(tree[lang]) for lang in LANGS)
            if nl != en:
                out.append(f"{where or '/'}: only nl {sorted(nl - en)}, only en {sorted(en - nl)}")
        for key, value in tree.items():
            out += languages_agree(value, f"{where}/{key}")
    return out
