"""A made-up distribution before and after disclosure control (complementary suppression)."""
from __future__ import annotations

from outcome_analysis.presentation import methods, report

NAME = "disclosure"


def build(ov) -> list:
    c = methods.notes(ov.lang)["disc_cols"]
    table = methods.disclosure_example(lang=ov.lang, settings=ov.settings)
    cols = {"category": (c["category"], "text"), "count": (c["count"], "int"), "shown": (c["shown"], "text"),
            "reason": (c["reason"], "text")}
    return [report.display_table(table, cols, ov.lang, settings=ov.settings)]
