"""The RCI and GAS formulas worked out with (made-up) numbers."""
from __future__ import annotations

from outcome_analysis.presentation import methods, report

NAME = "rci_gas"


def build(ov) -> list:
    lang = ov.lang
    mt = methods.notes(lang)

    def f(v, d=2):
        return report.fmt_number(v, d, lang)

    r = methods.rci_example()
    rci = mt["rci"].format(pre=f(r["pre"], 0), post=f(r["post"], 0), sd=f(r["sd"], 0), r=f(r["reliability"]),
                           se=f(r["se"]), sdiff=f(r["sdiff"]), rci=f(r["rci"]), cls=mt["cls"][r["class"]])
    g = methods.gas_example(settings=ov.settings)
    gas = mt["gas"].format(x=", ".join(str(v) for v in g["scores"]), w=", ".join(str(v) for v in g["weights"]),
                           rho=f(g["rho"], 1), swx=f(g["sum_wx"], 0), sw2=f(g["sum_w2"], 0), sw=f(g["sum_w"], 0),
                           den=f(g["denominator"]), t=f(g["t"], 1),
                           reached=mt["reached"] if g["reached"] else mt["not_reached"])
    return [report.note(rci), report.note(gas)]
