"""The providers of a gemeente (jeugdregio) side by side: their raw figure for the unit's youths,
under the disclosure rule, and their national verdict (issue 15).

A gemeente report names the providers that serve its youths (the gemeente contracts them) and
shows, per care type and headline indicator, each provider's *raw* figure for the records of these
youths at that provider, beside the provider's own case-mix adjusted verdict over all its youths
(the verdict of the provider's institution report). There is no provider x gemeente verdict.

:func:`compute_pairs` computes the figures with the indicator engine
(:func:`outcome_analysis.indicators.tables.compute`) on the unit dataset
(:func:`outcome_analysis.running.units.unit_dataset`) whose ``institution`` is the pair key
``unit + SEP + provider``: an episode counts in the pair of its counted (last-ending) record, so
the pairs of a provider split the provider's own figure by gemeente, and the pairs of a gemeente
split the gemeente's figure by provider. Per-youth indicators keep each youth's last episode of the
pair, as an institution row keeps the last episode at that institution.

Disclosure (:func:`close`): every pair figure is marked by the rule of the settings in force
(:func:`~outcome_analysis.indicators.suppression.resuppress`: ``min_denominator``, the two-cell
rule with ``min_cell``; twin halves of a year), and then hidden rows are protected against the
published totals they add up to, with ``resuppress(regions=...)`` ("when exactly one member of a
group is hidden, the group's visible member with the fewest records is hidden too"), iterated to
a fixed point over these groupings:

- **the national figure**: all pairs of a figure add up to the national (whole delivery) figure,
  printed in every report (``compute``'s own rule across institutions);
- **within a unit across its providers**: the pairs of one gemeente (jeugdregio) add up to the
  unit's own figure, printed in its report;
- **within a provider across its units**: the pairs of one provider add up to the provider's own
  figure, printed in its institution report;
- **within a jeugdregio and provider** (gemeente pairs only): the gemeente pairs of a provider in
  one jeugdregio add up to that provider's pair in the jeugdregio report;
- a jeugdregio of one gemeente: its pair *is* the gemeente's pair; what one hides the other hides
  (:func:`compute_unit_pairs` settles both kinds together).

Pairs of the unknown unit ("gemeente onbekend") take part in the provider and national groupings
(their counts are real parts of those totals; a small one is hidden and so protected) but belong
to no unit grouping and are never stored or shown. Only headline rows (category ``""``) are
computed: a report prints no breakdown of a pair.

:func:`provider_verdicts` keeps, from the institution results of the same delivery, the adjusted
verdict of each provider (``unit_kind`` institution, basis ``adjusted``), the verdict its own report
shows. Both tables go into the unit store (``Results.providers``, ``Results.provider_verdicts``).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from outcome_analysis.contract.dataset import Dataset
from outcome_analysis.settings import DEFAULT, Settings

#: the separator of the pair key ``unit + SEP + provider`` (never in a name).
SEP = "\x1f"
#: columns of the stored pair figures (``Results.providers``).
PAIR_COLUMNS = ("unit", "provider", "indicator", "period", "care_type", "window_months", "numerator", "denominator",
                "value", "ci_low", "ci_high", "suppressed")
#: columns of the stored national verdicts of the providers (``Results.provider_verdicts``).
VERDICT_COLUMNS = ("provider", "indicator", "care_type", "period", "report_period", "signal", "favourable",
                   "text_key")


def empty_pairs() -> pd.DataFrame:
    """An empty pair table (:data:`PAIR_COLUMNS`): a store without provider figures."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in PAIR_COLUMNS})


def empty_verdicts() -> pd.DataFrame:
    """An empty verdict table (:data:`VERDICT_COLUMNS`)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in VERDICT_COLUMNS})


def headline_indicators() -> list[str]:
    """The indicators a unit report's key figures show (share indicators with a headline that
    restate no other) that the engine computes, in registry order."""
    from outcome_analysis.indicators import registry
    from outcome_analysis.indicators.builders import computable

    ids = set(computable())
    return [i for i, e in registry.REGISTRY.items()
            if i in ids and e.headline == "share" and not e.same_as and not e.restates]


def shown_periods(period: str, reference_date, settings: Settings, indicators: Sequence[str]) -> dict[str, str]:
    """Indicator -> the period a report of ``period`` shows its figure for (the report period, or for
    an indicator with a follow-up window the latest period whose window has passed:
    :func:`~outcome_analysis.running.results.modelled_period`)."""
    from outcome_analysis.indicators import registry
    from outcome_analysis.running.results import modelled_period

    return {i: str(modelled_period(registry.get(i), str(period), reference_date, settings) or period)
            for i in indicators}


def _twins(periods) -> set[str]:
    out = set()
    for p in periods:
        p = str(p)
        out.add(p)
        if len(p) == 6 and p[4] == "H":
            out.add(p[:4] + ("H2" if p[5] == "1" else "H1"))
    return out


def pair_dataset(units: Dataset) -> Dataset:
    """The unit dataset with ``institution`` the pair key ``unit + SEP + provider``."""
    from outcome_analysis.running.units import PROVIDER

    t = units.trajectories
    key = t["institution"].astype(str) + SEP + t[PROVIDER].astype(str)
    trajectories = t.assign(institution=pd.array(key.to_numpy(dtype=object), dtype=t["institution"].dtype))
    return Dataset(trajectories, goals=units.goals, experience=units.experience, reference_date=units.reference_date,
                   sources=list(units.sources), warnings=list(units.warnings), meta=dict(units.meta))


def close(table: pd.DataFrame, settings: Settings, groupings: Sequence[Mapping[str, str]],
          hidden: np.ndarray | None = None) -> np.ndarray:
    """``suppressed`` of ``table`` (a :func:`compute` table, pair rows and national rows) closed
    under the rule of ``settings`` and each grouping of ``groupings`` (pair key -> group; a pair not
    in a grouping belongs to no group of it): ``resuppress(regions=grouping, hidden=...)`` in turn
    until no grouping hides another row. ``hidden``: rows to hide whatever their counts. Returns a
    bool array in ``table``'s order; rows only ever become hidden, so this ends."""
    from outcome_analysis.indicators.suppression import resuppress

    marked = table["suppressed"].to_numpy(bool).copy()
    if hidden is not None:
        marked |= np.asarray(hidden, bool)
    for _ in range(len(table) + 1):
        before = marked.copy()
        for grouping in groupings:
            marked = resuppress(table, settings, regions=dict(grouping), hidden=marked)["suppressed"].to_numpy(bool)
        if (marked == before).all():
            break
    return marked


def _compute_table(units: Dataset, settings: Settings, granularity: str, period: str) -> pd.DataFrame:
    """The pair headline rows (and national rows) of the periods a report of ``period`` shows."""
    from outcome_analysis.indicators.tables import compute

    indicators = headline_indicators()
    shown = shown_periods(period, units.reference_date, settings, indicators)
    table = compute(pair_dataset(units), indicators, granularity, settings=settings,
                    periods=sorted(_twins(shown.values())))
    table = table.loc[table["category"].astype(str) == ""].reset_index(drop=True)
    return table


def _split(table: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    parts = table["institution"].astype(str).str.split(SEP, n=1, expand=True)
    if parts.shape[1] < 2:
        parts[1] = ""
    return parts[0].fillna(""), parts[1].fillna("")


def _pairs_of(table: pd.DataFrame) -> list[str]:
    return sorted(set(table.loc[table["scope"] == "institution", "institution"].astype(str)))


def _stored(table: pd.DataFrame, marked: np.ndarray, unknown: str) -> pd.DataFrame:
    """The pair rows as stored: no national rows, no rows of the unknown unit."""
    t = table.assign(suppressed=marked)
    t = t.loc[t["scope"] == "institution"]
    unit, provider = _split(t)
    t = t.assign(unit=unit.to_numpy(), provider=provider.to_numpy())
    t = t.loc[t["unit"] != unknown]
    return t[list(PAIR_COLUMNS)].reset_index(drop=True)


def compute_unit_pairs(data: Dataset, mapping, settings: Settings | None = None, *, period: str,
                       granularity: str = "year") -> dict[str, pd.DataFrame]:
    """The provider figures of both unit kinds for the youths of each unit, disclosure settled.

    Parameters
    ----------
    data : Dataset
        The whole delivery (all providers; trajectories with ``municipality``).
    mapping : Mapping
        The gemeente mapping (:func:`outcome_analysis.contract.mapping.read_mapping`).
    settings : Settings, optional
        The settings in force (default ``settings.DEFAULT``): thresholds ``min_denominator`` and
        ``min_cell``, windows, ``conf`` and ``ci_method`` of the intervals.
    period : str
        The report period; each indicator's rows are of the period a report of ``period`` shows
        (:func:`shown_periods`).
    granularity : {"year", "half_year"}

    Returns
    -------
    dict
        ``{"municipality": DataFrame, "region": DataFrame}``, each with :data:`PAIR_COLUMNS`: one
        row per unit, provider, indicator (:func:`headline_indicators`), period and care type with
        records; ``numerator`` and ``denominator`` (units counted), ``value`` (the share, 0..1),
        ``ci_low``/``ci_high`` (its interval at ``settings.conf``), ``suppressed`` (bool: the
        report shows the mark, never the figure or the counts). The unknown unit is left out.
        See the module docstring for what the marks protect against.

    Raises
    ------
    outcome_analysis.running.units.UnitError
        As :func:`~outcome_analysis.running.units.unit_dataset`.
    """
    from outcome_analysis.running.units import UNKNOWN, regions_of_units, unit_dataset

    settings = DEFAULT if settings is None else settings
    period = str(period)
    tables, keys = {}, {}
    for kind in ("municipality", "region"):
        units = unit_dataset(data, mapping, kind, period=period)
        tables[kind] = _compute_table(units, settings, granularity, period)
    shown = shown_periods(period, data.reference_date, settings, headline_indicators())
    regions = regions_of_units(mapping, period=period)
    members: dict[str, list[str]] = {}
    for g, r in regions.items():
        members.setdefault(r, []).append(g)
    groupings = {}
    for kind, table in tables.items():
        pairs = _pairs_of(table)
        keys[kind] = pairs
        unit_of = {p: p.split(SEP, 1)[0] for p in pairs}
        by_unit = {p: u for p, u in unit_of.items() if u != UNKNOWN[kind]}
        by_provider = {p: p.split(SEP, 1)[1] for p in pairs}
        groups = [by_unit, by_provider]
        if kind == "municipality":
            groups.append({p: regions[u] + SEP + p.split(SEP, 1)[1] for p, u in unit_of.items() if u in regions})
        groupings[kind] = groups
    # a jeugdregio of one gemeente: its pair is the gemeente's pair
    single = {members[r][0]: r for r in members if len(members[r]) == 1}
    g_table, r_table = tables["municipality"], tables["region"]
    g_twin = g_table["institution"].astype(str).map(
        lambda k: (single.get(k.split(SEP, 1)[0], "") + SEP + k.split(SEP, 1)[1]) if k.split(SEP, 1)[0] in single
        else None)
    match = ["indicator", "period", "care_type"]

    def key_frame(t, names):
        return pd.Series(list(zip(names, *[t[c].astype(str) for c in match])), index=t.index, dtype=object)

    g_keys = key_frame(g_table, g_twin.fillna("").to_numpy())
    r_keys = key_frame(r_table, r_table["institution"].astype(str).to_numpy())
    g_force = np.zeros(len(g_table), bool)
    r_force = np.zeros(len(r_table), bool)
    g_marked = close(g_table, settings, groupings["municipality"])
    r_marked = close(r_table, settings, groupings["region"])
    for _ in range(len(g_table) + len(r_table) + 1):
        g_hidden = set(g_keys[g_twin.notna().to_numpy() & g_marked])
        r_hidden = set(r_keys[r_marked])
        new_r = r_keys.isin(g_hidden).to_numpy() & ~r_marked
        new_g = g_twin.notna().to_numpy() & g_keys.isin(r_hidden).to_numpy() & ~g_marked
        if not new_r.any() and not new_g.any():
            break
        g_force |= new_g
        r_force |= new_r
        g_marked = close(g_table, settings, groupings["municipality"], g_marked | g_force)
        r_marked = close(r_table, settings, groupings["region"], r_marked | r_force)
    out = {}
    for kind, table, marked in (("municipality", g_table, g_marked), ("region", r_table, r_marked)):
        stored = _stored(table, marked, UNKNOWN[kind])
        keep = [shown.get(i) == p for i, p in zip(stored["indicator"], stored["period"].astype(str))]
        out[kind] = stored.loc[keep].reset_index(drop=True)
    return out


def provider_verdicts(institution_results, providers: Sequence[str], period: str) -> pd.DataFrame:
    """The adjusted verdict of each of ``providers`` as its own report shows it: the rows of the
    institution results' comparisons table with ``unit_kind`` institution, basis ``adjusted``,
    measure ``oe_ratio`` and report period ``period`` (for an indicator with a follow-up window, of
    the modelled period). Returns :data:`VERDICT_COLUMNS` (``provider`` = the comparisons' ``unit``);
    empty when the results hold none."""
    comp = getattr(institution_results, "comparisons", None)
    if comp is None or comp.empty:
        return empty_verdicts()
    rows = comp.loc[(comp["unit_kind"].astype(str) == "institution") & (comp["basis"] == "adjusted")
                    & (comp["measure"] == "oe_ratio") & (comp["report_period"].astype(str) == str(period))
                    & comp["unit"].isin(list(providers))]
    rows = rows.rename(columns={"unit": "provider"})
    rows = rows.assign(period=rows["period"].astype(str), report_period=rows["report_period"].astype(str))
    return rows[list(VERDICT_COLUMNS)].drop_duplicates(["provider", "indicator", "care_type"]).reset_index(drop=True)


__all__ = ["SEP", "PAIR_COLUMNS", "VERDICT_COLUMNS", "empty_pairs", "empty_verdicts", "headline_indicators",
           "shown_periods", "pair_dataset", "close", "compute_unit_pairs", "provider_verdicts"]
