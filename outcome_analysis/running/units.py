"""Results per gemeente and per jeugdregio (issue 15): the same indicator engine, other units.

A gemeente report covers the youths the gemeente is responsible for (*woonplaatsbeginsel*): each
record is counted in the gemeente of its ``municipality`` column, placed with the gemeente mapping in
force on the last day of the report period (``docs/gemeente-mapping.md``: a dissolved code is
counted in its successor). :func:`unit_dataset` turns a delivery into a :class:`Dataset` whose
``institution`` column holds the unit, so that the indicator engine, the case-mix models, the
statuses and the comparisons compute "per unit" unchanged; :func:`compute_unit_results` runs the
usual :func:`~outcome_analysis.running.results.compute_results` on it and adds what is particular
to units:

- the unit kind (``meta["unit_kind"]`` and the comparisons table's ``unit_kind`` column);
- the units' codes, regions and providers in ``meta["units"]`` (aggregate facts only);
- for gemeenten, disclosure control coordinated across the gemeenten of a jeugdregio
  (:func:`outcome_analysis.indicators.suppression.resuppress` with ``regions=``).

Units are named as reports name them: a gemeente by ``"Utrecht (GM0344)"``
(:meth:`Mapping.label <outcome_analysis.contract.mapping.Mapping.label>`), a jeugdregio by its
name. Records without a gemeente, and records whose code cannot be placed (a split code without
the new code, a code not in the mapping: each a :class:`~outcome_analysis.errors.Problem` in
``meta["units"]["problems"]``), are kept in the unit :data:`UNKNOWN` (``"gemeente onbekend"``,
``"regio onbekend"``): the national figures stay those of the whole delivery and a report can say
"gemeente onbekend: N".

Episodes are chained per youth over the whole delivery, whatever the unit: chaining is by youth,
family and dates only, and the unit of an episode is the gemeente of its counted (last-ending)
record. The provider of each record stays in the column :data:`PROVIDER`, which the engine reads
for the one episode fact about organisations: a hand-over to another GI (``transfer_gi``,
:data:`outcome_analysis.indicators.episodes.PROVIDER_COLUMN`), so a transfer stays a transfer.

A batch that publishes gemeente and jeugdregio reports computes both stores and then calls
:func:`coordinate`, so that a jeugdregio of one gemeente hides what its gemeente hides.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from outcome_analysis.contract.dataset import Dataset
from outcome_analysis.contract.mapping import Mapping, period_end
from outcome_analysis.errors import OutcomeAnalysisError, Problem
from outcome_analysis.settings import DEFAULT, Settings

#: the unit kinds (the comparisons table's ``unit_kind`` besides ``institution``).
UNITS = ("municipality", "region")
#: the unit records are counted in when their gemeente is not known or cannot be placed.
UNKNOWN = {"municipality": "gemeente onbekend", "region": "regio onbekend"}
#: the column of a unit dataset that keeps the record's provider (the delivery's ``institution``).
PROVIDER = "provider"  # = indicators.episodes.PROVIDER_COLUMN
#: the column of a unit dataset with the unit's code (``GM0344``; a region's ``region_code``, else
#: its name); ``<NA>`` for the unknown unit.
UNIT_CODE = "unit_code"


class UnitError(OutcomeAnalysisError, ValueError):
    """An unknown unit kind, or a delivery without the ``municipality`` column."""


def _check_unit(unit: str) -> str:
    if unit not in UNITS:
        raise UnitError(f"unit must be one of {', '.join(UNITS)}; got {unit!r}")
    return unit


def _trajectory_file(data: Dataset) -> str:
    """The name problems give for the trajectories: their source file(s), else ``trajectories``."""
    names = [p.name for p in (data.sources or []) if p.name.lower().startswith("trajectories")]
    return ", ".join(dict.fromkeys(names)) or "trajectories"


def unit_dataset(data: Dataset, mapping: Mapping, unit: str, *, period: str) -> Dataset:
    """The delivery with every record counted in its gemeente (or the gemeente's jeugdregio).

    Parameters
    ----------
    data : Dataset
        A loaded delivery (its ``trajectories`` need the column ``municipality``; it may be empty).
    mapping : Mapping
        The gemeente mapping (:func:`outcome_analysis.contract.mapping.read_mapping`).
    unit : {"municipality", "region"}
    period : str
        The report period (``"2024"``, ``"2024H1"``): the mapping in force on its last day places
        the codes (a dissolved code is counted in its successor).

    Returns
    -------
    Dataset
        The same records (same order, goals and experience, reference date and sources) with
        ``institution`` the unit: ``"Utrecht (GM0344)"`` or the region's name, :data:`UNKNOWN`
        ``[unit]`` where the gemeente is empty or cannot be placed; :data:`PROVIDER` the record's
        provider; :data:`UNIT_CODE` the unit's code. ``meta["units"]`` holds ``kind``, ``period``,
        ``on`` (ISO date), ``mapping`` (its source), ``unknown`` (the unknown unit's name),
        ``n_unknown`` (records in it, of which ``n_unplaced`` had a code that could not be placed),
        ``codes`` (unit -> code) and ``problems`` (a list of :class:`~outcome_analysis.errors.Problem`,
        one per record whose code could not be placed: the file and row it was read from
        (``data.origin``, see :meth:`Dataset.origin_of
        <outcome_analysis.contract.dataset.Dataset.origin_of>`; for data without an origin, made in
        memory, the source file name(s) and ``row`` ``None``), column ``municipality``, the value
        and the ``trajectory_id``). The result keeps ``data.origin``.

    Raises
    ------
    UnitError
        For another ``unit``, or trajectories without a ``municipality`` column.
    """
    unit = _check_unit(unit)
    t = data.trajectories
    if "municipality" not in t.columns:
        raise UnitError("the trajectories have no column municipality: no gemeente to count them in")
    on = period_end(period)
    ids = t["trajectory_id"].to_numpy(dtype=object)
    if data.origin is None:  # made in memory: no rows to name
        where = {"file": _trajectory_file(data)}
    else:
        origin = data.origin_of(t["trajectory_id"])
        where = {"file": origin["file"].to_numpy(dtype=object), "rows": origin["row"].to_numpy(dtype=object)}
    resolution = mapping.resolve(t["municipality"].reset_index(drop=True), on, trajectory_ids=ids, **where)
    codes = resolution.codes
    g = mapping.in_force(on).set_index("municipality")
    if unit == "municipality":
        names = g["name"].astype(str) + " (" + g.index.astype(str) + ")"
        unit_codes = pd.Series(g.index.astype(str), index=g.index)
    else:
        names = g["region"].astype(str)
        unit_codes = g["region_code"].astype("string").fillna(g["region"].astype("string")).astype(str)
    label = codes.map(names).astype("string")  # one lookup per distinct code (pandas maps by value)
    code = codes.map(unit_codes).astype("string")
    unknown = label.isna().to_numpy()
    label = label.fillna(UNKNOWN[unit])
    trajectories = t.assign(**{
        "institution": pd.array(label.to_numpy(dtype=object), dtype=t["institution"].dtype),
        PROVIDER: t["institution"].array,
        UNIT_CODE: pd.array(code.to_numpy(dtype=object), dtype="string"),
    })
    present = codes.notna().to_numpy() | t["municipality"].astype("string").str.strip().fillna("").ne("").to_numpy()
    facts = {
        "kind": unit, "period": str(period), "on": f"{on:%Y-%m-%d}", "mapping": mapping.source,
        "unknown": UNKNOWN[unit], "n_unknown": int(unknown.sum()),
        "n_unplaced": int((unknown & present).sum()),
        "codes": dict(zip(label[~unknown].to_numpy(dtype=object), code[~unknown].to_numpy(dtype=object))),
        "problems": resolution.problems,
    }
    return Dataset(trajectories, goals=data.goals, experience=data.experience, reference_date=data.reference_date,
                   sources=list(data.sources), warnings=list(data.warnings), meta={**data.meta, "units": facts},
                   origin=data.origin)


def regions_of_units(mapping: Mapping, *, period: str) -> dict[str, str]:
    """Gemeente unit name (``"Utrecht (GM0344)"``) -> its jeugdregio, for the gemeenten in force on
    the last day of ``period``: the ``regions=`` of
    :func:`~outcome_analysis.indicators.suppression.resuppress` for gemeente results."""
    g = mapping.in_force(period_end(period))
    return dict(zip((g["name"].astype(str) + " (" + g["municipality"].astype(str) + ")"), g["region"].astype(str)))


def _providers(data: Dataset) -> dict[str, list[str]]:
    """Unit -> the providers with records of its youths (sorted)."""
    pairs = data.trajectories[["institution", PROVIDER]].dropna().drop_duplicates()
    out: dict[str, list[str]] = {}
    for u, p in zip(pairs["institution"].astype(str), pairs[PROVIDER].astype(str)):
        out.setdefault(u, []).append(p)
    return {k: sorted(v) for k, v in sorted(out.items())}


def _problem_record(p: Problem) -> dict:
    return {"file": p.file, "row": p.row, "column": p.column, "value": p.value, "expected": p.expected, "kind": p.kind,
            "trajectory_id": p.trajectory_id, "params": [list(kv) for kv in p.params]}


def compute_unit_results(data: Dataset, mapping: Mapping, unit: str, settings: Settings | None = None, *,
                         period: str, granularity: str = "year", periods: Sequence[str] | None = None):
    """Every figure of the gemeente (or jeugdregio) reports, computed once for all units.

    Parameters
    ----------
    data : Dataset
        The whole delivery (all providers).
    mapping : Mapping
    unit : {"municipality", "region"}
    settings : Settings, optional
        Default ``settings.DEFAULT``.
    period : str
        The report period: the mapping in force on its last day places the records.
    granularity : {"year", "half_year"}
        Period length of the indicator tables (as :func:`compute_results`).
    periods : list of str, optional
        The report periods of the case-mix models; default ``[period]``.

    Returns
    -------
    Results
        As :func:`~outcome_analysis.running.results.compute_results` gives for institutions, with
        the units in the place of the institutions (``institution`` columns, ``meta["institutions"]``)
        and:

        - ``comparisons["unit_kind"]`` = ``unit``; ``meta["unit_kind"]`` = ``unit``;
        - ``meta["units"]``: ``kind``, ``period``, ``on``, ``mapping`` (its source), ``mapping_as_of``,
          ``unknown`` (the unit of records without a placed gemeente), ``n_unknown``, ``n_unplaced``,
          ``codes`` (unit -> code), ``regions`` (gemeente unit -> jeugdregio; for regions: region ->
          its gemeente units), ``providers`` (unit -> providers serving its youths) and ``problems``
          (dicts with ``file``, ``row``, ``column``, ``value``, ``kind``, ``trajectory_id``,
          ``params``);
        - for gemeenten, ``suppressed`` coordinated across the gemeenten of a jeugdregio (when
          exactly one gemeente of a region is hidden for a figure, the region's next smallest is
          hidden too), the context figures likewise, and the statuses and comparisons read from those
          marks. A region of one
          gemeente is settled between the two stores by :func:`coordinate`.

    Raises
    ------
    UnitError
        As :func:`unit_dataset`.
    """
    from outcome_analysis.indicators.context import protect as protect_context
    from outcome_analysis.indicators.suppression import resuppress
    from outcome_analysis.running.results import compute_results

    settings = DEFAULT if settings is None else settings
    periods = [str(period)] if periods is None else [str(p) for p in periods]
    units = unit_dataset(data, mapping, unit, period=period)
    results = compute_results(units, settings, granularity, periods)
    regions = regions_of_units(mapping, period=period)
    results.meta["unit_kind"] = unit
    if unit == "municipality":
        results.indicators = resuppress(results.indicators, settings, regions=regions)
        results.context = protect_context(results.context, settings, regions=regions)
        region_facts = {u: r for u, r in regions.items() if u in results.meta["institutions"]}
    else:
        region_facts = {}
        for u, r in regions.items():
            region_facts.setdefault(r, []).append(u)
    _refresh(results, settings)
    facts = dict(units.meta["units"])
    facts.update(
        mapping_as_of=None if mapping.as_of is None else f"{mapping.as_of:%Y-%m-%d}",
        regions=region_facts, providers=_providers(units),
        problems=[_problem_record(p) for p in facts["problems"]],
    )
    results.meta.update(unit_kind=unit, units=facts)
    return results


_MATCH = ("indicator", "period", "care_type", "category", "window_months")


def _match_keys(table: pd.DataFrame, units: pd.Series) -> pd.Series:
    """One hashable key per row: the unit (renamed by the caller) and the figure's keys."""
    window = table["window_months"].astype("Float64").fillna(-1).astype(float)
    parts = [units.astype(str)] + [table[c].astype(str) for c in _MATCH if c != "window_months"] + [window.astype(str)]
    return pd.Series(list(zip(*parts)), index=table.index, dtype=object)


def _refresh(results, settings: Settings) -> None:
    """Statuses and comparisons read from the (re-marked) indicator table again."""
    from outcome_analysis.running import comparisons
    from outcome_analysis.running.results import indicator_status

    unit = results.meta.get("unit_kind", "institution")
    results.status = indicator_status(results.indicators, results.quality, meta=results.meta, settings=settings,
                                      periods=results.meta["periods"])
    results.comparisons = comparisons.build(results.indicators, results.casemix, results.casemix_mean, settings)
    if "unit_kind" in results.comparisons.columns:
        results.comparisons = results.comparisons.assign(unit_kind=unit)


def coordinate(municipality_results, region_results, mapping: Mapping, settings: Settings | None = None) -> int:
    """Make a jeugdregio of one gemeente hide what its gemeente hides, and the other way round.

    The figure of a region with a single gemeente *is* that gemeente's figure, published twice: in
    the gemeente results and in the region results. Both stores start from the same counts, so the
    primary rule hides the same figures, but the secondary rules differ (the gemeente store hides a
    gemeente to protect another gemeente against the national total, the region store a region to
    protect another region): a figure hidden in one store and shown in the other gives the hidden
    figure it protected back. So each hidden figure of such a gemeente is hidden in the region store
    and each hidden figure of such a region in the gemeente store (``resuppress(hidden=...)``, with
    their own secondary rules), until neither store has such a figure hidden that the other shows
    (the rows forced only grow, so this ends). The statuses and comparisons of both are then read
    again. Other figures may be marked otherwise than before (a forced row can settle a complement
    that another row gave), always by each store's own rules.

    Parameters
    ----------
    municipality_results, region_results : Results
        :func:`compute_unit_results` of the same delivery, mapping, settings and period, with
        ``unit="municipality"`` and ``unit="region"``; modified in place.
    mapping : Mapping
    settings : Settings, optional
        The settings both were computed with (default: those in ``municipality_results``).

    Returns
    -------
    int
        The number of rows forced hidden, over both stores (0: the stores already agreed).

    Raises
    ------
    UnitError
        When the two results are not of those unit kinds or not of the same period.
    """
    from outcome_analysis.indicators.suppression import resuppress

    g_meta, r_meta = municipality_results.meta.get("units") or {}, region_results.meta.get("units") or {}
    if g_meta.get("kind") != "municipality" or r_meta.get("kind") != "region" or g_meta.get("on") != r_meta.get("on"):
        raise UnitError("coordinate needs the gemeente and the jeugdregio results of one report period")
    settings = municipality_results.settings if settings is None else settings
    regions = regions_of_units(mapping, period=g_meta["period"])
    members: dict[str, list[str]] = {}
    for gemeente, region in regions.items():
        members.setdefault(region, []).append(gemeente)
    single = {members[r][0]: r for r in members if len(members[r]) == 1}  # gemeente unit -> its region
    if not single:
        return 0
    g_table, r_table = municipality_results.indicators, region_results.indicators
    g_rows = (g_table["scope"] == "institution").to_numpy() & g_table["institution"].isin(list(single)).to_numpy()
    r_rows = (r_table["scope"] == "institution").to_numpy() & r_table["institution"].isin(list(single.values())).to_numpy()
    g_keys = _match_keys(g_table, g_table["institution"].map(single).fillna(""))
    r_keys = _match_keys(r_table, r_table["institution"].astype(str))
    g_force = np.zeros(len(g_table), bool)
    r_force = np.zeros(len(r_table), bool)
    for _ in range(len(g_table) + len(r_table) + 1):  # each round forces at least one more row
        g_hidden = set(g_keys[g_rows & g_table["suppressed"].to_numpy(bool)])
        r_hidden = set(r_keys[r_rows & r_table["suppressed"].to_numpy(bool)])
        new_r = r_rows & r_keys.isin(g_hidden).to_numpy() & ~r_table["suppressed"].to_numpy(bool)
        new_g = g_rows & g_keys.isin(r_hidden).to_numpy() & ~g_table["suppressed"].to_numpy(bool)
        if not new_r.any() and not new_g.any():
            break
        r_force |= new_r
        g_force |= new_g
        r_table = resuppress(r_table, settings, hidden=r_force)
        g_table = resuppress(g_table, settings, regions=regions, hidden=g_force)
    municipality_results.indicators, region_results.indicators = g_table, r_table
    added = int(g_force.sum() + r_force.sum())
    if added:
        _refresh(municipality_results, settings)
        _refresh(region_results, settings)
    return added


def unit_problems(results) -> list[Problem]:
    """The problems of the gemeente codes that could not be placed, as
    :class:`~outcome_analysis.errors.Problem` again (from ``results.meta["units"]["problems"]``)."""
    out = []
    for p in (results.meta.get("units") or {}).get("problems", []):
        out.append(Problem(p["file"], p["row"], p["column"], p["value"], p.get("expected", ""), trajectory_id=p["trajectory_id"],
                           kind=p["kind"], params=tuple(tuple(kv) for kv in p["params"])))
    return out


__all__ = ["UNITS", "UNKNOWN", "PROVIDER", "UNIT_CODE", "UnitError", "unit_dataset", "regions_of_units",
           "compute_unit_results", "coordinate", "unit_problems"]
