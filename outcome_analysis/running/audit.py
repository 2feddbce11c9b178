"""The leak audit: read a finished report and fail it when it shows what disclosure control hid.

Disclosure control (docs/indicators.md, "Disclosure control") is decided once, in the stored tables:
every row of ``indicators``, ``context`` and ``verloop`` of a results store
(:class:`outcome_analysis.running.results.Results`) carries ``suppressed``. The audit never decides
it again; it reads that column and looks in the report's text for what the hidden rows would give
away. Three checks:

(a) :func:`check_ledger` — the numbers a report printed (:mod:`outcome_analysis.presentation.ledger`)
    are compared with the hidden figures: a printed share, interval or O/E that equals (at the
    printed precision) a hidden figure of the institution and no shown one is a leak.
(b) :func:`forbidden_strings` and :func:`scan` — every way the report's formatting functions could
    print a hidden figure of the institution: the share, its complement (1 − p), its interval, each
    with 0, 1 and 2 decimals in Dutch (``9,1%``) and English (``9.1%``), the hidden O/E, its
    interval and the adjusted share of the case-mix rows of a hidden figure (``0,86``); and every
    count below ``min_cell`` in a sentence ("3 van de 13", "3 jongeren", "3 of the 13",
    "3 young people"), or a count whose complement is below ``min_cell`` ("175 van de 182").
    A printed form that is also the printed form of a shown figure (of the institution, the pooled
    rows, the completeness table or the settings, such as the 95% of an interval) cannot be told
    apart from it and is not looked for; a share printed without decimals is not looked for when it
    is a multiple of 5% (axis ticks).
(c) :func:`percentages_not_in_ledger` — every percentage in the text was printed by the formatting
    functions (it is in the ledger); a percentage typed into a text or computed by hand is flagged.

:func:`audit_report` runs them on a report's HTML, PDF text and CSV files and returns an
:class:`AuditResult`; ``python -m outcome_analysis audit DIR`` runs it on a published folder.

Only shares are looked for: a hidden mean or median has no fixed printed form that would not also
match unrelated numbers. Counts written out in words ("drie jongeren") are not looked for.

Ledgers
-------
The batch may keep each report's ledger beside the results store it was made from:
``<results store>/ledgers/<period>/<slug>.json`` (the manifest key of the report plus ``.json``;
:func:`outcome_analysis.presentation.ledger.ledger_path`). When it is there, the audit also runs
(a) and (c); without it, only (b).
"""
from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

#: the manifest kinds of gemeente and jeugdregio reports, audited against their own unit store.
UNIT_KINDS = ("municipality", "region")

#: the kinds of leak, in the order reports list them.
LEAK_KINDS = ("share", "complement", "interval", "casemix", "count", "ledger", "unrecorded")
#: characters of text either side of a leak, in its ``context``.
CONTEXT_CHARS = 40
#: the decimals a percentage and a ratio is printed with in the reports.
PCT_DECIMALS = (0, 1, 2)
RATIO_DECIMALS = (2,)
#: decimals of a share written as a fraction in a CSV file ("0,0909").
FRACTION_DECIMALS = (2, 3, 4)

#: nouns after a count that make it a count of people or trajectories ("3 jongeren").
_NOUNS = {
    "nl": ("jongeren", "jongere", "jeugdigen", "jeugdige", "kinderen", "kind", "cliënten", "cliënt", "clienten",
           "client", "trajecten", "traject", "gezinnen", "gezin", "ouders", "maatregelen", "maatregel", "doelen",
           "beëindigingen", "afsluitingen", "aanmeldingen", "zaken", "personen", "deelnemers"),
    "en": ("young people", "young person", "youths", "youth", "children", "child", "clients", "client",
           "trajectories", "trajectory", "families", "family", "parents", "measures", "measure", "goals", "cases",
           "persons", "people", "participants", "endings", "referrals"),
}
#: words after "k van de n" / "k of the n" that count something other than people (institutions).
_NOT_PEOPLE = ("vergelijkingen", "comparisons", "instellingen", "aanbieders", "organisaties", "gemeenten", "indicatoren", "perioden", "periodes",
               "jaren", "maanden", "regio", "institutions", "providers", "organisations", "organizations",
               "municipalities", "indicators", "periods", "years", "months", "regions")
#: words before "k van de n" that make it the band of a hidden share ("minder dan 10 van de 12").
_BAND_WORDS = ("minder dan", "meer dan", "less than", "fewer than", "more than")

_SPACES = re.compile(r"[\u00a0\u202f\u2007\u2009\s]+")
_PCT_TOKEN = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)*)\s?%")
_DECIMAL_TOKEN = re.compile(r"(?<![\w.,])(\d+[.,]\d+)(?![\d%]|[.,]\d|\s%)")
_NOUN_ALT = "|".join(sorted({re.escape(n) for ns in _NOUNS.values() for n in ns}, key=len, reverse=True))
# case-sensitive: "9 Doelen" is a page number before a heading, "9 doelen" a count
_OUT_OF = re.compile(r"(?<![\w.,:/-])(\d{1,6}) (van de|of the|out of) (\d{1,6})(?![\d.,]\d)(?: (\w+))?")
_COUNT_NOUN = re.compile(r"(?<![\w.,:/-])(\d{1,3}) (" + _NOUN_ALT + r")\b")


@dataclass(frozen=True)
class Leak:
    """One place where a report shows what was hidden: its ``kind`` (:data:`LEAK_KINDS`), the
    matched ``text``, what it reveals (``why``), the text around it, and the file part it was
    found in (``source``: ``html``, ``pdf``, ``csv:<name>``, ``ledger``)."""

    kind: str
    text: str
    why: str
    context: str = ""
    source: str = ""
    position: int = -1


@dataclass
class Forbidden:
    """What a report of one institution must not print (:func:`forbidden_strings`).

    ``percentages`` maps a printed percentage (``"9,1%"``) to (kind, why); ``numbers`` a printed
    ratio (``"0,86"``); ``fractions`` a share written as a fraction, looked for in CSV files only;
    ``min_cell`` is the smallest count a sentence may give; ``values`` the exact hidden values."""

    percentages: dict[str, tuple[str, str]] = field(default_factory=dict)
    numbers: dict[str, tuple[str, str]] = field(default_factory=dict)
    fractions: dict[str, tuple[str, str]] = field(default_factory=dict)
    min_cell: int = 10
    #: the hidden figures themselves (("pct" | "ratio", :func:`value_key`) -> (kind, why)), less the
    #: values of shown figures, for the ledger (:func:`check_ledger`), which records the exact value
    #: printed and how (a share as a percentage, an O/E as a ratio)
    values: dict[tuple[str, float], tuple[str, str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.percentages) + len(self.numbers) + len(self.fractions)

    def __contains__(self, text: str) -> bool:
        text = _canonical(text)
        return text in self.percentages or text in self.numbers or text in self.fractions


@dataclass
class AuditResult:
    """The audit of one report: every :class:`Leak`, ``ok`` when there is none, and a one-line summary."""

    leaks: list[Leak]
    institution: str = ""

    @property
    def ok(self) -> bool:
        return not self.leaks

    @property
    def summary(self) -> str:
        if not self.leaks:
            return f"{self.institution or 'report'}: no leaks"
        counts = {k: sum(1 for x in self.leaks if x.kind == k) for k in LEAK_KINDS}
        said = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
        return f"{self.institution or 'report'}: {len(self.leaks)} leak(s) ({said})"

    def to_frame(self) -> pd.DataFrame:
        cols = ["kind", "text", "why", "context", "source", "position"]
        return pd.DataFrame([[getattr(x, c) for c in cols] for x in self.leaks], columns=cols)


# --------------------------------------------------------------------------------------------
# printed forms
# --------------------------------------------------------------------------------------------
def _fmt(x: float, decimals: int, lang: str) -> str:
    """``x`` printed as :func:`outcome_analysis.presentation.report.fmt_number` prints it."""
    text = f"{float(x):,.{decimals}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]
    if lang == "nl":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def pct_forms(p, langs: Sequence[str] = ("nl", "en"), decimals: Sequence[int] = PCT_DECIMALS) -> list[str]:
    """A fraction printed as a percentage in every format of the reports: ``pct_forms(1/11)`` →
    ``['9%', '9,1%', '9,09%', '9.1%', '9.09%']`` (duplicates once)."""
    if not _finite(p):
        return []
    return list(dict.fromkeys(_fmt(float(p) * 100, d, lang) + "%" for lang in langs for d in decimals))


def ratio_forms(x, langs: Sequence[str] = ("nl", "en"), decimals: Sequence[int] = RATIO_DECIMALS) -> list[str]:
    """A ratio printed as the reports print an O/E: ``ratio_forms(0.857)`` → ``['0,86', '0.86']``."""
    if not _finite(x):
        return []
    return list(dict.fromkeys(_fmt(float(x), d, lang) for lang in langs for d in decimals))


def _finite(x) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def value_key(x) -> float:
    """A figure as the ledger compares it: rounded to 10 decimals (the same cells give the same key
    whichever way the value was computed)."""
    return round(float(x), 10)


def _canonical(text: str) -> str:
    return _SPACES.sub("", str(text))


def _truthy(x) -> bool:
    try:
        return bool(x) and not pd.isna(x)
    except (TypeError, ValueError):
        return bool(x)


# --------------------------------------------------------------------------------------------
# hidden and shown figures
# --------------------------------------------------------------------------------------------
def _rows_of(table: pd.DataFrame | None, institution: str | None) -> pd.DataFrame:
    """The institution's own rows of a figures table (every institution's for ``None``/``""``)."""
    if table is None or table.empty or "institution" not in table.columns:
        return pd.DataFrame()
    if "scope" in table.columns:
        own = table["scope"] == "institution"
    else:
        own = table["institution"].astype(str) != ""
    if institution:
        own &= table["institution"] == institution
    return table.loc[own]


def _pooled_rows(table: pd.DataFrame | None) -> pd.DataFrame:
    if table is None or table.empty:
        return pd.DataFrame()
    if "scope" in table.columns:
        return table.loc[table["scope"] != "institution"]
    if "institution" in table.columns:
        return table.loc[table["institution"].astype(str) == ""]
    return pd.DataFrame()


def _suppressed(table: pd.DataFrame) -> pd.Series:
    if table.empty or "suppressed" not in table.columns:
        return pd.Series(False, index=table.index)
    return table["suppressed"].map(_truthy).astype(bool)


def _is_share(row) -> bool:
    """A row whose value is numerator / denominator (not a mean or a median)."""
    p, num, den = row.get("value"), row.get("numerator"), row.get("denominator")
    if not (_finite(p) and _finite(num) and _finite(den)) or float(den) <= 0:
        return False
    return 0.0 <= float(p) <= 1.0 and abs(float(num) / float(den) - float(p)) < 1e-6


def _describe(row) -> str:
    parts = [str(row.get(k)) for k in ("indicator", "care_type", "period", "category")
             if row.get(k) not in (None, "") and not (isinstance(row.get(k), float) and math.isnan(row.get(k)))]
    return " ".join(parts)


def _hidden_casemix(results, institution: str | None) -> pd.DataFrame:
    """Case-mix rows (O/E, adjusted share) of a figure that is hidden: the ``suppressed`` column of
    the case-mix table when it has one, else the ``indicators`` row of the same indicator, care type,
    institution and modelled period (:meth:`ResultsQuery.hidden_headlines`: the headline of the
    follow-up window in force, so a hidden 24-month figure does not hide the modelled 12-month one)."""
    cm = getattr(results, "casemix", None)
    if cm is None or cm.empty:
        return pd.DataFrame()
    cm = cm.loc[cm["institution"].astype(str) != ""]
    if institution:
        cm = cm.loc[cm["institution"] == institution]
    if cm.empty:
        return cm
    if "suppressed" in cm.columns:
        return cm.loc[_suppressed(cm)]
    return cm.loc[results.hidden_headlines(cm)]


def _add_action_forms(results, institution: str | None, add_pct, add_number) -> None:
    """The shown figures of the verbeteracties section (``running.actions``: the before/after shares
    and O/E, the judgement's estimate and interval, the p-chart's points and limits) of
    ``institution`` (every institution for ``None``), through ``add_pct`` and ``add_number``: a report
    prints them, so a hidden figure's form that equals one of them is no leak of the hidden figure
    (the p-chart's hidden points keep no value; a hidden before or after share is not printed)."""
    course = getattr(results, "action_course", None)
    points = getattr(results, "action_points", None)
    for table in (course, points):
        if table is None or table.empty:
            continue
        own = table if not institution else table.loc[table["institution"].astype(str) == institution]
        if table is points:
            own = own.loc[~own["hidden"].fillna(False).astype(bool)]
            for col in ("p", "centre", "lcl", "ucl"):
                for v in pd.to_numeric(own[col], errors="coerce").dropna().unique():
                    add_pct(v)
            continue
        for col, hidden in (("p_before", "hidden_before"), ("p_after", "hidden_after")):
            shown = own.loc[~own[hidden].fillna(False).astype(bool)]
            for v in pd.to_numeric(shown[col], errors="coerce").dropna().unique():
                add_pct(v)
        newcombe = own["method"].astype(str) == "newcombe"
        for col in ("estimate", "ci_low", "ci_high"):
            for v in pd.to_numeric(own.loc[newcombe, col], errors="coerce").dropna().unique():
                add_pct(abs(v))
            for v in pd.to_numeric(own.loc[~newcombe, col], errors="coerce").dropna().unique():
                add_number(v)
        for col in ("oe_before", "oe_after"):
            for v in pd.to_numeric(own[col], errors="coerce").dropna().unique():
                add_number(v)


def _shown_forms(results, institution: str | None, settings, langs) -> dict[str, set[str]]:
    """Every printed form of a figure the report may show, per target of :class:`Forbidden`
    (``percentages``, ``numbers``, ``fractions``): the institution's and the pooled shown rows,
    their complements and intervals, completeness, the shown case-mix figures, the reference values
    of the verdicts and the settings' levels."""
    forms: dict[str, set] = {"percentages": set(), "numbers": set(), "fractions": set(), "values": set()}

    def add_pct(v):
        if _finite(v):
            for x in (float(v), 1 - float(v)):
                forms["percentages"].update(pct_forms(x, langs))
                forms["fractions"].update(_fmt(x, d, lang) for lang in langs for d in FRACTION_DECIMALS)
                forms["values"].add(("pct", value_key(x)))

    def add_number(v):
        if _finite(v):
            forms["numbers"].update(ratio_forms(v, langs))
            forms["values"].add(("ratio", value_key(v)))

    pairs = provider_rows(results, institution)
    if not pairs.empty:  # a unit report prints its providers' shown figures for its youths
        shown = pairs.loc[~_suppressed(pairs)]
        for col in ("value", "ci_low", "ci_high"):
            for v in pd.to_numeric(shown[col], errors="coerce").dropna().unique():
                add_pct(v)
    _add_action_forms(results, institution, add_pct, add_number)
    for name in ("indicators", "context", "quality"):
        table = getattr(results, name, None)
        for part in (_rows_of(table, institution), _pooled_rows(table)):
            if part.empty:
                continue
            shown = part.loc[~_suppressed(part)]
            for col in ("value", "ci_low", "ci_high"):
                if col in shown.columns:
                    for v in pd.to_numeric(shown[col], errors="coerce").dropna().unique():
                        add_pct(v)
    cm = getattr(results, "casemix", None)
    if cm is not None and not cm.empty:
        hidden = _hidden_casemix(results, institution).index
        own = cm.loc[~cm.index.isin(hidden)]
        if institution:
            own = own.loc[own["institution"].isin([institution, ""])]
        for col in ("national_value", "raw_value", "adjusted_value"):
            if col in own.columns:
                for v in own[col].dropna().unique():
                    add_pct(v)
        for col in ("oe_ratio", "oe_ci_low", "oe_ci_high", "oe_shrunk", "oe_shrunk_ci_low", "oe_shrunk_ci_high",
                    "funnel_low", "funnel_high"):
            if col in own.columns:
                for v in own[col].dropna().unique():
                    add_number(v)
        if "national_value" in cm.columns:  # the pooled share is printed beside every institution's
            for v in cm["national_value"].dropna().unique():
                add_pct(v)
    comp = getattr(results, "comparisons", None)
    if comp is not None and not comp.empty and "unit" in comp.columns:
        rows = comp.loc[comp["unit"].isin([institution, ""])] if institution else comp
        for col in ("null_value", "reference_value", "expected_low", "expected_high", "level"):
            if col in rows.columns:
                for v in pd.to_numeric(rows[col], errors="coerce").dropna().unique():
                    add_pct(v)
                    add_number(v)
    for name in ("coefficients", "model_summaries", "calibration", "casemix_mean"):  # the model tables
        table = getattr(results, name, None)
        if table is None or table.empty:
            continue
        for col in table.columns:
            values = pd.to_numeric(table[col], errors="coerce") if table[col].dtype.kind not in "fiu" else table[col]
            for v in values.dropna().unique():
                add_number(v)
    for name in ("conf", "signal_limit", "overdispersion_trim"):
        add_pct(getattr(settings, name, None))
    for level in getattr(settings, "funnel_limits", ()) or ():
        add_pct(level)
    for level in _printed_constants():  # "de respons is laag (minder dan 30%)": no one's figure
        forms["percentages"].update(pct_forms(level, langs))  # the level itself, not its complement
        forms["values"].add(("pct", value_key(level)))
    return forms


def _printed_constants() -> tuple[float, ...]:
    """The fixed levels the report's texts print as percentages (no one's figure): the response below
    which an experience figure is read with caution."""
    from outcome_analysis.presentation.report import RESPONSE_CAUTION

    return (RESPONSE_CAUTION,)


def provider_rows(results, unit: str | None) -> pd.DataFrame:
    """The figures of the providers for the youths of ``unit`` that a gemeente or jeugdregio report
    prints (the unit store's ``providers`` table, :mod:`outcome_analysis.running.unit_providers`), as
    figure rows (``institution`` ``"<unit> / <provider>"``, category ``""``); empty for any other
    store or without a unit. Audited as the unit's own figures are: a hidden one printed is a leak."""
    table = getattr(results, "providers", None)
    if table is None or table.empty or not unit or "unit" not in table.columns:
        return pd.DataFrame()
    rows = table.loc[table["unit"].astype(str) == str(unit)]
    return rows.assign(institution=rows["unit"].astype(str) + " / " + rows["provider"].astype(str),
                       scope="institution", category="")


_COUNT_KEYS = ("indicator", "care_type", "period", "category", "numerator", "denominator")


def _count_keys(table: pd.DataFrame) -> pd.Series:
    cols = [c for c in _COUNT_KEYS if c in table.columns]
    return pd.Series(list(zip(*[table[c].astype(str) for c in cols])), index=table.index, dtype=object)


def _hidden_counts(results, institution: str | None) -> set:
    """(indicator, care type, period, category, numerator, denominator) of the unit's hidden rows."""
    out: set = set()
    for name in ("indicators", "context"):
        rows = _rows_of(getattr(results, name, None), institution)
        if not rows.empty:
            out.update(_count_keys(rows.loc[_suppressed(rows)]))
    return out


def _without_counts(results, unit: str, hidden: set):
    """The figures of ``unit`` in ``results`` (indicators, context, quality; no models) less the rows
    with the counts of a hidden figure (``hidden``: :func:`_hidden_counts`)."""
    from types import SimpleNamespace

    tables = {}
    for name in ("indicators", "context", "quality"):
        rows = _rows_of(getattr(results, name, None), unit)
        if not rows.empty and hidden:
            rows = rows.loc[~_count_keys(rows).isin(hidden)]
        tables[name] = rows
    return SimpleNamespace(**tables, casemix=None, comparisons=None)


def unit_comparators(results, others, unit: str, period: str | None = None) -> list[tuple]:
    """The ``also_shown`` of a gemeente or jeugdregio report (:func:`forbidden_strings`): the figures of
    other units the report prints beside its own. A gemeente report (``results`` the gemeente store,
    ``others`` the jeugdregio store of the same run): its jeugdregio and, with ``period``, the pooled
    headline figures of its comparable gemeenten (:func:`neighbour_figures`); a jeugdregio report
    (``others`` the gemeente store): its gemeenten. Empty for an institution store."""
    facts = (results.meta.get("units") or {}) if hasattr(results, "meta") else {}
    regions = facts.get("regions") or {}
    kind = results.meta.get("unit_kind") if hasattr(results, "meta") else None
    out: list[tuple] = []
    if kind == "municipality":
        region = regions.get(unit)
        if others is not None and region:
            out.append((others, region))
        if period:
            pooled = neighbour_figures(results, unit, period)
            if pooled is not None:
                out.append((pooled, NEIGHBOURS))
    elif kind == "region" and others is not None:
        out.extend((others, g) for g in regions.get(unit, []) or [])
    return out


#: the unit name of the comparable gemeenten's pooled figures in :func:`neighbour_figures`.
NEIGHBOURS = "comparable gemeenten"


def neighbour_figures(results, unit: str, period: str):
    """The pooled headline figures of the comparable gemeenten of ``unit``
    (:func:`outcome_analysis.running.neighbours.neighbours_of` and :func:`~outcome_analysis.running.neighbours.pooled`
    for every indicator, care type and period of the gemeente store: their shown numerators over their
    shown denominators, with interval), as a figures table of the unit :data:`NEIGHBOURS`; ``None``
    when the unit has no comparable gemeenten."""
    from types import SimpleNamespace

    try:
        from outcome_analysis.running import neighbours
    except ImportError:  # pragma: no cover - a workbench without comparable gemeenten
        return None
    from outcome_analysis.statistics.stats import proportion_ci

    try:
        near = neighbours.neighbours_of(results, unit, period)
    except Exception:  # no profile for this period: the report shows no comparable gemeenten either
        return None
    t = getattr(results, "indicators", None)
    if not near or t is None or t.empty:
        return None
    rows = t.loc[(t["scope"] == "institution") & t["institution"].isin(near) & ~_suppressed(t)
                 & (t["category"].fillna("").astype(str) == "")]
    rows = rows.loc[pd.to_numeric(rows["denominator"], errors="coerce").fillna(0) > 0]
    if rows.empty:
        return None
    sums = rows.groupby(["indicator", "care_type", "period"], dropna=False)[["numerator", "denominator"]].sum()
    sums = sums.reset_index()
    sums = sums.loc[sums["denominator"] > 0]
    settings = results.settings
    bounds = [proportion_ci(float(x), float(n), settings.conf, settings.ci_method)
              for x, n in zip(sums["numerator"], sums["denominator"])]
    table = sums.assign(scope="institution", institution=NEIGHBOURS, category="",
                        value=sums["numerator"] / sums["denominator"], suppressed=False,
                        ci_low=[float(b[0]) for b in bounds], ci_high=[float(b[1]) for b in bounds])
    return SimpleNamespace(indicators=table, context=None, quality=None, casemix=None, comparisons=None, meta={})


# --------------------------------------------------------------------------------------------
# (b) what must not be printed
# --------------------------------------------------------------------------------------------
def forbidden_strings(results, institution: str | None, settings, langs: Sequence[str] = ("nl", "en"),
                      periods: Sequence[str] | None = None, also_shown: Sequence = ()) -> Forbidden:
    """What a report of ``institution`` must not print (``None`` or ``""``: any institution, for the
    national overview): every printed form of its hidden shares (``indicators`` and ``context`` rows
    with ``suppressed``), their complements and intervals, and the O/E, its interval and the adjusted
    share of the case-mix rows of a hidden figure, less the forms that a shown figure also prints
    (:func:`_shown_forms`). Counts in sentences are looked for by :func:`scan` with
    ``Forbidden.min_cell``. ``periods`` limits the hidden figures to the headline figures of those
    periods (the national overview shows institutions' headline figures of its report period and
    the modelled periods only; searching every hidden cell of every institution and year would match
    shown figures by coincidence). ``also_shown``: ``(results, unit)`` pairs of other units whose shown
    figures the report prints too (a gemeente report its jeugdregio's, :func:`unit_comparators`);
    their rows with the very counts of one of this unit's hidden figures are left out, so a comparator
    that is this unit's figure under another name still counts as a leak."""
    shown = _shown_forms(results, institution, settings, langs)
    if also_shown:
        hidden_counts = _hidden_counts(results, institution)
        for other, unit in also_shown:
            more = _shown_forms(_without_counts(other, unit, hidden_counts), unit, settings, langs)
            for key, forms in more.items():
                shown[key] |= forms
    out = Forbidden(min_cell=int(settings.min_cell))

    def hide(value, kind: str, why: str, printed: str = "pct") -> None:
        if _finite(value) and (printed, value_key(value)) not in shown["values"]:
            out.values.setdefault((printed, value_key(value)), (kind, why))

    def put(target: dict, forms: Iterable[str], kind: str, why: str, *, ticks: bool = False) -> None:
        allowed = shown[next(k for k, v in vars(out).items() if v is target)]
        for form in forms:
            if form in allowed or form in target:
                continue
            if ticks and _is_tick(form):
                continue
            target[form] = (kind, why)

    for name in ("indicators", "context", "providers"):
        if name == "providers":  # a unit report: its providers' figures for its youths
            rows = provider_rows(results, institution)
        else:
            rows = _rows_of(getattr(results, name, None), institution)
        if rows.empty:
            continue
        if periods is not None and "period" in rows.columns:
            # the overview: the institutions' headline figures of its periods (it shows no breakdown of one)
            rows = rows.loc[rows["period"].astype(str).isin([str(p) for p in periods])]
            if "category" in rows.columns:
                rows = rows.loc[rows["category"].fillna("").astype(str) == ""]
        for row in rows.loc[_suppressed(rows)].to_dict("records"):
            if not _is_share(row):
                continue
            what = f"hidden {name[:-1] if name == 'indicators' else name} {_describe(row)}"
            if name == "providers":
                what = f"hidden figure of provider {row.get('provider')} for these youths {_describe(row)}"
            elif institution is None or institution == "":
                what += f" ({row.get('institution')})"
            p = float(row["value"])
            put(out.percentages, pct_forms(p, langs), "share", f"{what}: the share", ticks=True)
            put(out.percentages, pct_forms(1 - p, langs), "complement", f"{what}: its complement", ticks=True)
            hide(p, "share", f"{what}: the share")
            hide(1 - p, "complement", f"{what}: its complement")
            for col in ("ci_low", "ci_high"):
                if _finite(row.get(col)):
                    hide(row[col], "interval", f"{what}: its interval ({col})")
                    hide(1 - float(row[col]), "interval", f"{what}: the interval of its complement")
                    put(out.percentages, pct_forms(row[col], langs), "interval", f"{what}: its interval ({col})",
                        ticks=True)
                    put(out.percentages, pct_forms(1 - float(row[col]), langs), "interval",
                        f"{what}: the interval of its complement", ticks=True)
            fractions = [_fmt(v, d, lang) for v in (p, 1 - p) for lang in langs for d in FRACTION_DECIMALS]
            put(out.fractions, fractions, "share", f"{what}: the share as a fraction")
    for row in _hidden_casemix(results, institution).to_dict("records"):
        what = f"hidden case-mix figure {_describe(row)}"
        for col in ("oe_ratio", "oe_ci_low", "oe_ci_high", "oe_shrunk", "oe_shrunk_ci_low", "oe_shrunk_ci_high"):
            put(out.numbers, ratio_forms(row.get(col), langs), "casemix", f"{what}: {col}")
            hide(row.get(col), "casemix", f"{what}: {col}", printed="ratio")
        for col in ("adjusted_value", "raw_value"):
            put(out.percentages, pct_forms(row.get(col), langs), "casemix", f"{what}: {col}", ticks=True)
            hide(row.get(col), "casemix", f"{what}: {col}")
    return out


def _is_tick(form: str) -> bool:
    """A whole percentage that is a multiple of 5 (an axis tick: ``20%``)."""
    digits = form.rstrip("%")
    return digits.isdigit() and int(digits) % 5 == 0


# --------------------------------------------------------------------------------------------
# scanning text
# --------------------------------------------------------------------------------------------
def normalise(text: str) -> str:
    """One space for every run of white space (no-break and thin spaces too): PDF text breaks lines
    in the middle of a sentence."""
    return _SPACES.sub(" ", text or "")


def _context(text: str, start: int, end: int) -> str:
    return text[max(0, start - CONTEXT_CHARS):end + CONTEXT_CHARS].strip()


def scan(text: str, forbidden: Forbidden, *, source: str = "", fractions: bool = False) -> list[Leak]:
    """Every place in ``text`` that prints something ``forbidden`` (:func:`forbidden_strings`): a
    hidden percentage or ratio (a whole number token: ``9,1%`` does not match inside ``19,1%``), and a
    count in a sentence below ``forbidden.min_cell`` ("3 van de 13", "3 jongeren", "3 of the 13",
    "3 young people") or whose complement is below it ("175 van de 182", unless it is the band of a
    hidden share: "minder dan 10 van de 12"). ``fractions`` also looks for shares written as
    fractions (CSV files)."""
    text = normalise(text)
    leaks: list[Leak] = []
    for m in _PCT_TOKEN.finditer(text):
        hit = forbidden.percentages.get(m.group(1) + "%")
        if hit:
            leaks.append(Leak(hit[0], m.group(0), hit[1], _context(text, m.start(), m.end()), source, m.start()))
    for m in _DECIMAL_TOKEN.finditer(text):
        hit = forbidden.numbers.get(m.group(1)) or (forbidden.fractions.get(m.group(1)) if fractions else None)
        if hit:
            leaks.append(Leak(hit[0], m.group(0), hit[1], _context(text, m.start(), m.end()), source, m.start()))
    k_min = forbidden.min_cell
    for m in _OUT_OF.finditer(text):
        k, n, after = int(m.group(1)), int(m.group(3)), (m.group(4) or "").lower()
        if after in _NOT_PEOPLE or k > n:
            continue
        before = text[max(0, m.start() - 12):m.start()].lower()
        band = any(before.rstrip().endswith(w) for w in _BAND_WORDS)
        if 1 <= k < k_min and not (band and k == n - k_min):  # "meer dan 3 van de 13": the upper band
            why = f"a count below {k_min} ({k} of {n})"
        elif 0 <= n - k < k_min and not band:
            why = f"a complement below {k_min} ({n - k} of {n} not)"
        else:
            continue
        leaks.append(Leak("count", m.group(0), why, _context(text, m.start(), m.end()), source, m.start()))
    for m in _COUNT_NOUN.finditer(text):
        k = int(m.group(1))
        if 1 <= k < k_min and not _inside(m.start(), leaks, source):
            leaks.append(Leak("count", m.group(0), f"a count below {k_min}", _context(text, m.start(), m.end()),
                              source, m.start()))
    return sorted(leaks, key=lambda x: x.position)


def _inside(position: int, leaks: list[Leak], source: str) -> bool:
    return any(x.kind == "count" and x.source == source and x.position <= position < x.position + len(x.text)
               for x in leaks)


# --------------------------------------------------------------------------------------------
# (a) and (c): the ledger
# --------------------------------------------------------------------------------------------
def check_ledger(ledger_frame: pd.DataFrame | None, results, institution: str | None, settings,
                 langs: Sequence[str] = ("nl", "en"), periods: Sequence[str] | None = None,
                 also_shown: Sequence = (), forbidden: "Forbidden | None" = None) -> list[Leak]:
    """The recorded percentages and ratios that print a hidden figure of ``institution`` (its
    share, complement, interval, O/E) and no shown one: the value the formatting function was given
    equals the hidden figure (to 10 decimals; :func:`value_key`), so a shown figure that merely prints
    alike is no leak. An entry without a value is compared by its printed text. ``periods``: see
    :func:`forbidden_strings`; ``forbidden``: its result for these arguments when the caller has it
    (it is made once per report)."""
    if ledger_frame is None or ledger_frame.empty:
        return []
    if forbidden is None:
        forbidden = forbidden_strings(results, institution, settings, langs, periods=periods, also_shown=also_shown)
    leaks = []
    for i, row in enumerate(ledger_frame.to_dict("records")):
        kind = row.get("kind")
        if kind not in ("pct", "ratio", "number"):
            continue
        value = row.get("value")
        if _finite(value):  # the exact value printed: a hidden figure itself, not a coincidence of print
            hit = forbidden.values.get(("pct" if kind == "pct" else "ratio", value_key(value)))
        else:
            text = _canonical(row.get("text", ""))
            hit = forbidden.percentages.get(text) if kind == "pct" else forbidden.numbers.get(text)
        if hit:
            where = ", ".join(f"{k}={row[k]}" for k in ("unit", "indicator", "care_type", "period", "category")
                              if k in row and isinstance(row[k], str) and row[k])
            leaks.append(Leak("ledger", row.get("text", ""), f"{hit[1]} (recorded as {hit[0]})", where, "ledger", i))
    return leaks


def _vouched(ledger_frame: pd.DataFrame, recorded: list[Leak]) -> set[str]:
    """The printed texts of the ledger that were printed from a known value and never from a hidden
    one (no entry with that text is among the ``recorded`` leaks of :func:`check_ledger`)."""
    frame = ledger_frame.reset_index(drop=True)
    bad = {_canonical(frame.loc[leak.position, "text"]) for leak in recorded if 0 <= leak.position < len(frame)}
    known = frame.loc[pd.to_numeric(frame["value"], errors="coerce").notna(), "text"].dropna().astype(str)
    return {t for t in map(_canonical, known) if t not in bad}


def ledger_texts(ledger_frame: pd.DataFrame | None) -> set[str]:
    """The printed texts of a ledger, white space removed; a recorded number also counts as printed
    with a ``%`` after it."""
    if ledger_frame is None or ledger_frame.empty:
        return set()
    texts = {_canonical(t) for t in ledger_frame["text"].dropna().astype(str)}
    return texts | {t + "%" for t in texts if not t.endswith("%")}


def level_forms(settings, langs: Sequence[str] = ("nl", "en")) -> set[str]:
    """The printed forms of the levels the texts name, which are no figures of anyone: the settings'
    ``conf``, ``signal_limit``, ``funnel_limits`` and ``overdispersion_trim`` ("95%", "99,8%") and
    the quartiles of the duration texts ("25% en 75%")."""
    levels = [getattr(settings, name, None) for name in ("conf", "signal_limit", "overdispersion_trim")]
    levels += list(getattr(settings, "funnel_limits", ()) or ()) + [0.25, 0.75]
    return {_canonical(f) for v in levels if _finite(v) for f in pct_forms(float(v), langs)}


def percentages_not_in_ledger(text: str, ledger_frame: pd.DataFrame | None, *, source: str = "",
                              allowed: Iterable[str] = ()) -> list[Leak]:
    """Every percentage in ``text`` (``12,3%``, ``12.3%``) that no formatting function printed (not
    among the ledger's texts, nor ``allowed``: the forms of :func:`level_forms`)."""
    known = ledger_texts(ledger_frame) | {_canonical(a) for a in allowed}
    text = normalise(text)
    return [Leak("unrecorded", m.group(0), "a percentage not printed by the report's formatting functions",
                 _context(text, m.start(), m.end()), source, m.start())
            for m in _PCT_TOKEN.finditer(text) if m.group(1) + "%" not in known]


# --------------------------------------------------------------------------------------------
# one report
# --------------------------------------------------------------------------------------------
def text_of_html(html: str) -> str:
    """The text of an HTML page as a reader sees it, plus what tooltips and labels say (``title``,
    ``alt``, ``aria-label``, ``data-*`` attributes); no scripts or styles."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html or "", "html.parser")
    for tag in soup(["script", "style", "noscript"]):
        tag.decompose()
    said = []
    for tag in soup.find_all(True):
        for attr, value in tag.attrs.items():
            if attr in ("title", "alt", "aria-label") or attr.startswith("data-"):
                said.append(" ".join(value) if isinstance(value, list) else str(value))
    return normalise(soup.get_text(" ") + " \n " + " \n ".join(said))


def text_of_pdf(path: str | Path) -> str:
    """The text of a PDF file: ``pdftotext`` (poppler) when installed, else pypdf."""
    path = Path(path)
    exe = shutil.which("pdftotext")
    if exe:
        done = subprocess.run([exe, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=False)
        if done.returncode == 0:
            return done.stdout.decode("utf-8", errors="replace")
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def audit_report(html_text: str | None, pdf_text: str | None,
                 csv_texts: Mapping[str, str] | Sequence[str] | None, results, institution: str | None, settings, ledger_frame: pd.DataFrame | None = None,
                 langs: Sequence[str] = ("nl", "en"), periods: Sequence[str] | None = None,
                 also_shown: Sequence = ()) -> AuditResult:
    """Audit one report: its HTML (a page, tags are stripped; or text), the text of its PDF and its
    CSV files (a mapping name -> text, or a list) against the hidden figures of ``institution``
    (:func:`forbidden_strings`, :func:`scan`); with the report's ledger also :func:`check_ledger` and
    :func:`percentages_not_in_ledger` on the HTML and PDF text. ``periods``: see
    :func:`forbidden_strings`; ``also_shown``: the comparator units' shown figures
    (:func:`unit_comparators`)."""
    forbidden = forbidden_strings(results, institution, settings, langs, periods=periods, also_shown=also_shown)
    parts: list[tuple[str, str, bool]] = []
    if html_text:
        parts.append(("html", text_of_html(html_text) if "<" in html_text else normalise(html_text), False))
    if pdf_text:
        parts.append(("pdf", normalise(pdf_text), False))
    if csv_texts:
        items = csv_texts.items() if isinstance(csv_texts, Mapping) else enumerate(csv_texts)
        parts.extend((f"csv:{name}", text, True) for name, text in items)
    leaks: list[Leak] = []
    for source, text, is_csv in parts:
        leaks.extend(scan(text, forbidden, source=source, fractions=is_csv))
    if ledger_frame is not None:
        recorded = check_ledger(ledger_frame, results, institution, settings, langs, periods=periods,
                                also_shown=also_shown, forbidden=forbidden)
        # a printed form that the ledger shows was printed from a figure that is not hidden (and never
        # from a hidden one) only looks like a hidden figure: (a) has judged the value itself
        vouched = _vouched(ledger_frame, recorded)
        leaks = [leak for leak in leaks if leak.kind == "count" or leak.source.startswith("csv")
                 or _canonical(leak.text) not in vouched]
        leaks.extend(recorded)
        levels = level_forms(settings, langs)
        for source, text, is_csv in parts:
            if not is_csv:
                leaks.extend(percentages_not_in_ledger(text, ledger_frame, source=source, allowed=levels))
    return AuditResult(leaks, institution or "")


# --------------------------------------------------------------------------------------------
# a published folder
# --------------------------------------------------------------------------------------------
def published_reports(folder: str | Path) -> list[dict]:
    """The reports of a published folder, from its ``manifest.json``: per report its manifest key
    (``"<period>/<slug>"``), institution (``""`` for the national overview), kind, period and the
    paths of its files (``html``, ``pdf``, ``csv``, ... that exist)."""
    from outcome_analysis.running.batch.constants import MANIFEST_NAME

    folder = Path(folder)
    manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    out = []
    for key, entry in sorted(manifest.get("reports", {}).items()):
        files = {fmt: folder / rel for fmt, rel in (entry.get("files") or {}).items() if (folder / rel).is_file()}
        if not files:
            continue
        out.append({"key": key, "institution": entry.get("institution") or "", "kind": entry.get("kind", ""),
                    "period": entry.get("period", ""), "files": files})
    return out


def overview_periods(period: str) -> list[str]:
    """The periods whose institution figures an overview of ``period`` is audited against: the period
    and the two before it (the modelled periods of the windowed indicators)."""
    from outcome_analysis.contract.periods import previous_period

    return [period, previous_period(period), previous_period(previous_period(period))]


def stores_for(folder: str | Path, cache: str | Path | None = None) -> dict[str, Path]:
    """The results store of each granularity (``"year"``, ``"halfyear"``) the batch runs of a
    published folder used, the latest run first, as its manifest names them.

    ``cache``: a results store (a folder with ``meta.json``; then it is used for every granularity) or
    the cache folder of ``run_reports.py --cache`` that holds the stores by hash. Without it, the
    path the manifest recorded (the private cache), or ``<folder>/.results/<hash>`` of folders
    written by earlier versions. Empty when there is none.

    The stores of gemeente and jeugdregio reports (``run_reports.py --for municipality|region``) are
    keyed ``"<period>:<kind>"`` (``"2024:municipality"``): ``<cache>/<hash>/units/<kind>``, as the
    manifest's ``inputs.units`` names them."""
    from outcome_analysis.running.batch.constants import MANIFEST_NAME, RESULTS_DIR

    folder = Path(folder)
    if cache is not None and (Path(cache) / "meta.json").is_file():
        return {"*": Path(cache)}
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[str, Path] = {}
    for run in reversed(manifest.get("runs") or []):
        for granularity, entry in ((run.get("inputs") or {}).get("results") or {}).items():
            if not entry or granularity in out:
                continue
            if cache is not None:
                candidates = [Path(cache) / entry.get("hash", "")]
            else:
                candidates = [Path(entry["path"])] if entry.get("path") else []
                candidates.append(folder / RESULTS_DIR / entry.get("hash", ""))
            found = next((c for c in candidates if entry.get("hash") and (c / "meta.json").is_file()), None)
            if found is not None:
                out[granularity] = found
        for period, entry in ((run.get("inputs") or {}).get("units") or {}).items():
            for kind in UNIT_KINDS:
                if not entry or f"{period}:{kind}" in out:
                    continue
                if cache is not None:
                    candidate = Path(cache) / entry.get("hash", "") / "units" / kind
                else:
                    candidate = Path(entry[kind]) if entry.get(kind) else None
                if candidate is not None and entry.get("hash") and (candidate / "meta.json").is_file():
                    out[f"{period}:{kind}"] = candidate
    return out


def audit_folder(folder: str | Path, stores: Mapping[str, str | Path] | str | Path | None = None,
                 langs: Sequence[str] = ("nl", "en")) -> dict[str, AuditResult]:
    """Audit every report of a published folder (:func:`published_reports`) against the results
    store of its period's granularity (``stores``: granularity -> store, as :func:`stores_for`
    gives; one store for all; default :func:`stores_for` of the folder), as the batch did before
    publishing it (an overview against the institutions of :func:`overview_periods`; a gemeente or
    jeugdregio report against its own unit store, ``"<period>:<kind>"``, or a single store given for
    all when it is a store of that unit kind). A report's ledger is read from
    ``<store>/ledgers/<key>.json`` when it is there. A report without a store is left out."""
    from outcome_analysis.contract.periods import parse_period
    from outcome_analysis.presentation import ledger
    from outcome_analysis.running.results import Results

    if stores is None:
        stores = stores_for(folder)
    elif not isinstance(stores, Mapping):
        stores = {"*": stores}
    loaded: dict[Path, object] = {}
    out = {}
    for report in published_reports(folder):
        try:
            granularity = parse_period(report["period"])[2]
        except ValueError:
            continue
        unit_report = report["kind"] in UNIT_KINDS
        if unit_report:
            store = stores.get(f"{report['period']}:{report['kind']}") or stores.get("*")
        else:
            store = stores.get(granularity) or stores.get("*")
        if store is None:
            continue
        store = Path(store)
        if store not in loaded:
            loaded[store] = Results.load(store)
        results = loaded[store]
        if results.meta.get("unit_kind", "institution") != (report["kind"] if unit_report else "institution"):
            continue  # a store of other units: it says nothing of this report's figures
        files = report["files"]
        page = files["html"].read_text(encoding="utf-8", errors="replace") if "html" in files else None
        pdf = text_of_pdf(files["pdf"]) if "pdf" in files else None
        csvs = {p.name: p.read_text(encoding="utf-8-sig", errors="replace") for fmt, p in files.items()
                if fmt.endswith("csv")}
        path = ledger.ledger_path(store, report["key"])
        frame = ledger.load(path) if path.is_file() else None
        national = report["kind"] == "national"
        also: list = []
        if unit_report:  # the comparator units' shown figures, from the other unit store of the same run
            other_kind = "region" if report["kind"] == "municipality" else "municipality"
            other = stores.get(f"{report['period']}:{other_kind}")
            if other is not None and Path(other) not in loaded:
                loaded[Path(other)] = Results.load(other)
            also = unit_comparators(results, loaded[Path(other)] if other is not None else None,
                                    report["institution"], report["period"])
        out[report["key"]] = audit_report(page, pdf, csvs, results, "" if national else report["institution"],
                                          results.settings, frame, langs,
                                          periods=overview_periods(report["period"]) if national else None,
                                          also_shown=also)
    return out
