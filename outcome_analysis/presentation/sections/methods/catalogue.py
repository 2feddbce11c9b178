"""The three indicator sets (and the context items) as tables from the registry."""
from __future__ import annotations

from outcome_analysis.presentation import methods, overview

NAME = "catalogue"


def build(ov) -> list:
    return [methods.catalogue_html(set_id, ov.lang, ov.settings) for set_id in (*overview.SETS_SHOWN, "context")]
