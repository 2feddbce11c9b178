"""The Wilson formula worked out for 7 of 20 and a table of Wilson against Wald (made-up numbers)."""
from __future__ import annotations

from outcome_analysis.presentation import methods, report

NAME = "wilson"


def build(ov) -> list:
    lang = ov.lang
    mt = methods.notes(lang)

    def f(v, d=3):
        return report.fmt_number(v, d, lang)

    def pct(v):
        return report.fmt_pct(v, 1, lang)

    st = methods.wilson_steps()
    ex = methods.wilson_example()
    w = ex.iloc[0]
    text = mt["wilson"].format(x=st["x"], n=st["n"], nx=st["n"] - st["x"], z=f(st["z"]), c=f(st["centre"]),
                               h=f(st["half"]), lo=pct(st["low"]), hi=pct(st["high"]),
                               wlo=pct(w["wald_low"]), whi=pct(w["wald_high"]))
    c = mt["wilson_cols"]
    table = ex.assign(wald=[report.fmt_ci(a, b, 1, lang) for a, b in zip(ex["wald_low"], ex["wald_high"])])
    cols = {"numerator": (c["numerator"], "int"), "denominator": (c["denominator"], "int"),
            "value": (c["value"], "pct"), "wald": (c["wald"], "text"), "ci": (c["ci"], "ci")}
    return [report.note(text), report.display_table(table, cols, lang, settings=ov.settings)]
