"""The made-up trajectories of one youth with their episode numbers, and the sentence that explains
them (herhaald beroep)."""
from __future__ import annotations

import pandas as pd

from outcome_analysis.presentation import methods, report

NAME = "episodes"


def build(ov) -> list:
    lang = ov.lang
    mt = methods.notes(lang)
    ex = methods.toy_episode_example(lang, settings=ov.settings)
    table = report.display_table(ex["trajectories"], {c: (c, "text") for c in ex["trajectories"].columns}, lang,
                                 settings=ov.settings)
    first, second = ex["episodes"].iloc[0], ex["episodes"].iloc[1]
    h = ex["herhaald"]

    def n(v):
        return report.fmt_number(v, 0, lang)

    text = mt["episodes"].format(
        k=len(ex["trajectories"]), n=ex["n_episodes"], c=ex["chain_length"],
        end=report.fmt_date(pd.Timestamp(first["end_date"]), lang), inst=first["institution"],
        days=n((pd.Timestamp(second["start_date"]) - pd.Timestamp(first["end_date"])).days),
        m=ex["window_months"], p=ex["end_period"], num=n(h.get("numerator")), den=n(h.get("denominator")))
    return [table, report.note(text)]
