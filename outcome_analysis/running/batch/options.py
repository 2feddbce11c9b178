"""The batch's options checked before anything runs: formats, language, scheduler, parallel jobs."""
from __future__ import annotations

import os

from outcome_analysis import texts
from .constants import EDITION_CHOICES
from .errors import BatchConfigError
from .executors import check_scheduler
from .exporters import EXPORTERS


def check_options(formats, lang, scheduler, jobs) -> dict:
    """``{"formats": (...), "jobs": n}``; ``BatchConfigError`` naming the option that does not fit."""
    formats = tuple(dict.fromkeys(f.strip().lower() for f in formats if f.strip()))
    known = EXPORTERS.names()
    unknown = [f for f in formats if f not in known]
    if unknown or not formats:
        raise BatchConfigError(f"formats must be among {known}, got {list(formats) or 'none'}")
    texts.check_lang(lang, BatchConfigError)
    check_scheduler(scheduler)
    jobs = jobs or os.cpu_count() or 1
    if jobs < 1:
        raise BatchConfigError(f"jobs must be at least 1, got {jobs}")
    return {"formats": formats, "jobs": int(jobs)}


def check_edition(edition) -> tuple[str, ...]:
    """The editions ``edition`` means: ``"full"``, ``"short"``, ``"both"`` (or a sequence of
    ``"full"``/``"short"``) -> ``("full",)``, ``("short",)``, ``("full", "short")``;
    ``BatchConfigError`` for anything else.

    >>> check_edition("both"), check_edition(["short"])
    (('full', 'short'), ('short',))
    """
    if isinstance(edition, str):
        if edition not in EDITION_CHOICES:
            raise BatchConfigError(f"edition must be one of {sorted(EDITION_CHOICES)}, got {edition!r}")
        return EDITION_CHOICES[edition]
    chosen = tuple(dict.fromkeys(edition or ()))
    if not chosen or any(e not in EDITION_CHOICES["both"] for e in chosen):
        raise BatchConfigError(f"editions must be among {list(EDITION_CHOICES['both'])}, got {list(chosen)}")
    return tuple(e for e in EDITION_CHOICES["both"] if e in chosen)
