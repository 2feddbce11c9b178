"""Everything a report needs, computed once for the whole population (compute once, render many).

A batch calls :func:`compute_results` once, saves it with :meth:`Results.save` (Parquet tables and a
``meta.json``), and every institution's notebook reads it back with :meth:`Results.load` and tells
its own story. A notebook run alone calls :func:`compute_results` itself.

Only aggregates are stored: indicator figures per institution, period and care type, model
summaries, completeness. Never a record-level row.
"""
from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from outcome_analysis import __version__, atomic
from outcome_analysis.indicators import registry
from outcome_analysis.contract import schema
# the computing modules (statsmodels, scipy) are imported where they are used, so that a notebook
# that only reads stored results starts fast
from outcome_analysis.contract.dataset import Dataset
from outcome_analysis.errors import OutcomeAnalysisError
from outcome_analysis.contract.periods import latest_complete_period, parse_period
from outcome_analysis.running.query import ResultsQuery
from outcome_analysis.settings import DEFAULT, Settings

#: the tables of a results store, in the order they are written.
TABLES = (
    "indicators", "context", "quality", "verloop", "casemix", "casemix_mean",
    "model_summaries", "coefficients", "calibration", "status", "comparisons",
)
#: tables a store may hold (a unit store: its providers' figures for the unit's youths and their
#: national verdicts, :mod:`outcome_analysis.running.unit_providers`; a store of a delivery with
#: verbeteracties: their course, :mod:`outcome_analysis.running.actions`); a store without one loads
#: it as an empty table.
OPTIONAL_TABLES = ("providers", "provider_verdicts", "action_course", "action_points", "action_vlad")

#: what each indicator shows in a report, one word per indicator, scope, institution and care type
#: (:func:`indicator_status`): ``getoond`` (shown), ``verborgen`` (hidden by disclosure control),
#: ``te_weinig_gegevens`` (too few records for the thresholds, or nothing ended in the period),
#: ``niet_van_toepassing`` (the institution, or the delivery, has no trajectories of the care type),
#: ``niet_aangeleverd`` (the table or columns the indicator needs are absent or empty in the delivery).
STATUSES = ("getoond", "verborgen", "te_weinig_gegevens", "niet_van_toepassing", "niet_aangeleverd")

#: the optional parts of the data contract (docs/data-contract.md): a table, or trajectory columns
#: that are delivered only when every one of them holds a value somewhere in the delivery.
CONTRACT_PARTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "goals": ("goals", ()),
    "experience": ("experience", ()),
    "rom": ("trajectories", ("rom_instrument", "rom_start", "rom_end")),
    "threat": ("trajectories", ("threat_start", "threat_end")),
    "risk": ("trajectories", ("risk_start", "risk_end")),
    "help_accepted": ("trajectories", ("help_accepted",)),
    "without_help": ("trajectories", ("without_help",)),
    "goals_realised": ("trajectories", ("goals_realised",)),
    "recidivism": ("trajectories", ("recidivism",)),
    "working_alliance": ("trajectories", ("working_alliance",)),
    "chain_cooperation": ("trajectories", ("chain_cooperation",)),
    "issues": ("trajectories", ("issues",)),
    "complexity": ("trajectories", ("complexity",)),
    "perspective": ("trajectories", ("perspective",)),
    "sex": ("trajectories", ("sex",)),
    "out_of_home": ("trajectories", ("out_of_home",)),
    "registration_date": ("trajectories", ("registration_date",)),
    "first_contact_date": ("trajectories", ("first_contact_date",)),
    "municipality": ("trajectories", ("municipality",)),
}

#: the contract part an indicator cannot do without (indicators not listed need only the required
#: trajectory columns). ``same_as`` and ``restates`` entries take the part of the indicator they
#: are computed as.
INDICATOR_PARTS: dict[str, str] = {
    "jbjr_clientervaring": "experience",
    "jh_tevredenheid": "experience",
    "jb_afname_ontwikkelingsbedreiging": "threat",
    "jr_afname_criminogene_factoren": "risk",
    "jb_acceptatie_hulp": "help_accepted",
    "jh_zonder_hulp_verder": "without_help",
    "jh_afname_problematiek": "rom",
    "jh_doelrealisatie_gas": "goals",
    "pi01_doelrealisatie": "goals_realised",
    "pi10_geen_recidive": "recidivism",
    "ctx_werkrelatie": "working_alliance",
    "ctx_ketensamenwerking": "chain_cooperation",
    "ctx_kwesties": "issues",
}

#: columns of the ``status`` table.
STATUS_COLUMNS = ("indicator", "scope", "institution", "care_type", "report_period", "period", "status", "reason")

#: one row per case-mix model (the scalar facts of ``casemix.ModelSummary``).
SUMMARY_COLUMNS = (
    "indicator", "kind", "period", "care_type", "model", "covariates", "c_statistic", "r_squared",
    "n_records", "n_events", "n_lacking_covariates", "n_institutions", "phi", "tau2",
    "overdispersion_p", "overdispersion_applied", "fit_method", "converged", "dropped_terms", "note",
    "tau2_between", "rankability", "n_fixed",
)


def _empty_comparisons() -> pd.DataFrame:
    from outcome_analysis.running import comparisons

    return comparisons.empty()


def _empty_optional(name: str) -> pd.DataFrame:
    from outcome_analysis.running import unit_providers

    if name.startswith("action_"):
        from outcome_analysis.running import actions

        return actions.empty(name)
    return unit_providers.empty_pairs() if name == "providers" else unit_providers.empty_verdicts()


class ResultsError(OutcomeAnalysisError):
    """A results folder that cannot be read (missing table, wrong version)."""


@dataclass
class Results(ResultsQuery):
    """The precomputed figures of one data set under one set of settings.

    Attributes
    ----------
    indicators : DataFrame
        :func:`outcome_analysis.indicators.compute` for every period (institution and national rows).
    context : DataFrame
        :func:`outcome_analysis.context.compute_context`.
    quality : DataFrame
        :func:`outcome_analysis.quality.completeness`.
    verloop : DataFrame
        Durations of JB/JR episodes: quartiles of the episodes that ended in each period
        (``measure`` ``duration_days``) and of the waiting time (``waiting_days``), from
        :func:`outcome_analysis.indicators.verloop_profile`, and Kaplan–Meier quartiles by start
        cohort with running episodes censored (``duration_km_days``, with ``events`` and
        ``censored``), from :func:`outcome_analysis.survival.episode_durations`; ``suppressed``
        where ``n`` is below the threshold.
    casemix : DataFrame
        :func:`outcome_analysis.casemix.adjust_indicator` (shares) for every case-mix indicator in
        the report periods (from the indicator's records, built once with its table rows), with an
        ``indicator`` and ``report_period`` column (``period`` is the period that was modelled: for
        an indicator with a follow-up window, the latest period whose window has passed).
    casemix_mean : DataFrame
        Adjusted mean change (linear model with the baseline score) for the change indicators.
    model_summaries, coefficients, calibration : DataFrame
        The case-mix models, one row per model / per coefficient / per decile, keyed by
        ``indicator``, ``kind``, ``period`` and ``care_type``.
    status : DataFrame
        :func:`indicator_status` for the report periods: what every indicator shows, per scope,
        institution and care type (one of :data:`STATUSES`), computed once for every consumer.
    comparisons : DataFrame
        Every verdict, once (:func:`outcome_analysis.running.comparisons.build`): per unit,
        indicator, care type, period and basis (``adjusted``, ``raw_reference``,
        ``raw_previous``) the signal, whether it is favourable, the interval it was read from and
        the key of its words. Read with :meth:`comparison`.
    meta : dict
        ``instruments`` (:func:`instrument_facts`: ROM norms derived from the data, instruments
        unknown to the instrument table), ``settings``, ``granularity``,
        ``periods`` (report periods), ``reference_date``,
        ``institutions``, ``care_types`` (institution -> the care types it has trajectories of),
        ``contract`` (:func:`contract`: which optional parts the delivery held),
        ``n_trajectories``, ``version``, ``created``.
    providers, provider_verdicts : DataFrame
        Unit stores only (:data:`OPTIONAL_TABLES`; empty otherwise, and for a store written without
        them): the providers' figures for each unit's youths and the providers' national verdicts
        (:mod:`outcome_analysis.running.unit_providers`).
    action_course, action_points, action_vlad : DataFrame
        A delivery with verbeteracties only (:data:`OPTIONAL_TABLES`; empty otherwise): per action and
        report period the before/after judgement, the p-chart points and the VLAD at month ends
        (:func:`outcome_analysis.running.actions.action_course`; aggregates only).
    """

    indicators: pd.DataFrame
    context: pd.DataFrame
    quality: pd.DataFrame
    verloop: pd.DataFrame
    casemix: pd.DataFrame
    casemix_mean: pd.DataFrame
    model_summaries: pd.DataFrame
    coefficients: pd.DataFrame
    calibration: pd.DataFrame
    status: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(STATUS_COLUMNS)))
    comparisons: pd.DataFrame = field(default_factory=lambda: _empty_comparisons())
    meta: dict = field(default_factory=dict)
    providers: pd.DataFrame = field(default_factory=lambda: _empty_optional("providers"))
    provider_verdicts: pd.DataFrame = field(default_factory=lambda: _empty_optional("provider_verdicts"))
    action_course: pd.DataFrame = field(default_factory=lambda: _empty_optional("action_course"))
    action_points: pd.DataFrame = field(default_factory=lambda: _empty_optional("action_points"))
    action_vlad: pd.DataFrame = field(default_factory=lambda: _empty_optional("action_vlad"))

    @property
    def settings(self) -> Settings:
        """The settings the figures were computed with."""
        return Settings.from_dict(self.meta.get("settings"))

    @property
    def reference_date(self) -> pd.Timestamp:
        return pd.Timestamp(self.meta["reference_date"])

    @property
    def institutions(self) -> list[str]:
        return list(self.meta.get("institutions", []))

    @property
    def contract(self) -> dict[str, bool]:
        """Which optional parts of the data contract the delivery held (:func:`contract`)."""
        return dict(self.meta.get("contract", {}))

    def care_types_of(self, institution: str = "") -> list[str]:
        """The care types an institution has trajectories of in the delivery (any period); for
        ``""`` the care types of the whole delivery."""
        served = self.meta.get("care_types", {})
        if institution:
            return list(served.get(institution, []))
        return [c for c in schema.CARE_TYPES if any(c in v for v in served.values())]

    def family_institutions(self, care_type: str | Sequence[str]) -> list[str]:
        """The institutions with trajectories of the care-type family of ``care_type``
        (:func:`care_type_family`: jeugdhulp, or JB and JR), or of any family of a sequence of care
        types. The pooled figure of a family with fewer than two of them is one institution's own
        figure: nothing to compare with (:func:`outcome_analysis.report.comparison_scope`)."""
        codes = [care_type] if isinstance(care_type, str) else list(care_type)
        family = set().union(*(care_type_family(c) for c in codes)) if codes else set()
        return [name for name in self.institutions if family & set(self.care_types_of(name))]

    def status_of(self, indicator: str, care_type: str, institution: str = "", period: str | None = None) -> dict:
        """The status row (:data:`STATUS_COLUMNS`) of one indicator and care type, for an
        institution or (``institution=""``) for the delivery as a whole, in report ``period``
        (default: the latest report period). Read from the stored ``status`` table; a period the
        store does not hold is computed with the same function (:func:`indicator_status`)."""
        period = str(period or (self.meta.get("periods") or [""])[-1])
        scope = "institution" if institution else "national"
        st = self.status
        hit = st.loc[(st["indicator"] == indicator) & (st["care_type"] == care_type) & (st["scope"] == scope)
                     & (st["institution"] == institution) & (st["report_period"] == period)]
        if hit.empty:
            extra = indicator_status(self.indicators, self.quality, meta=self.meta, settings=self.settings,
                                     periods=[period])
            hit = extra.loc[(extra["indicator"] == indicator) & (extra["care_type"] == care_type)
                            & (extra["scope"] == scope) & (extra["institution"] == institution)]
        if hit.empty:
            return {"indicator": indicator, "scope": scope, "institution": institution, "care_type": care_type,
                    "report_period": period, "period": period, "status": "niet_van_toepassing", "reason": ""}
        return hit.iloc[0].to_dict()

    def save(self, folder: str | os.PathLike) -> Path:
        """Write every table as Parquet and ``meta.json`` into ``folder`` (created if missing).

        Each file is written to a temporary name and renamed into place, so a reader never sees a
        half-written table.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in TABLES:
            atomic.write_with(folder / f"{name}.parquet", lambda p, t=getattr(self, name): t.to_parquet(p, index=False))
        for name in OPTIONAL_TABLES:  # only when there is something: an institution store stays as it was
            if not getattr(self, name).empty:
                atomic.write_with(folder / f"{name}.parquet", lambda p, t=getattr(self, name): t.to_parquet(p, index=False))
        atomic.write_bytes(folder / "meta.json", json.dumps(self.meta, indent=2, default=str))
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike) -> "Results":
        """Read a folder written by :meth:`save`."""
        folder = Path(folder)
        missing = [f"{n}.parquet" for n in TABLES if not (folder / f"{n}.parquet").is_file()]
        if not (folder / "meta.json").is_file():
            missing.append("meta.json")
        if missing:
            raise ResultsError(f"results folder {folder} lacks {', '.join(missing)}; compute the results again")
        tables = {n: pd.read_parquet(folder / f"{n}.parquet") for n in TABLES}
        tables.update({n: pd.read_parquet(folder / f"{n}.parquet") for n in OPTIONAL_TABLES
                       if (folder / f"{n}.parquet").is_file()})
        meta = json.loads((folder / "meta.json").read_text())
        return cls(**tables, meta=meta)

    def summary(self, indicator: str, period: str, care_type: str, kind: str = "share") -> casemix.ModelSummary | None:
        """The case-mix :class:`~outcome_analysis.casemix.ModelSummary` of one model, rebuilt from the tables."""
        from outcome_analysis.statistics import casemix

        rows = self.model(indicator, period, care_type, kind)
        if rows.empty:
            return None
        r = rows.iloc[0]
        return casemix.ModelSummary(
            indicator=indicator, period=period, care_type=care_type, model=r["model"],
            covariates=tuple(json.loads(r["covariates"])),
            coefficients=self.model_coefficients(indicator, period, care_type, kind),
            c_statistic=float(r["c_statistic"]), calibration=self.model_calibration(indicator, period, care_type, kind),
            n_records=int(r["n_records"]), n_events=int(r["n_events"]),
            n_lacking_covariates=int(r["n_lacking_covariates"]), n_institutions=int(r["n_institutions"]),
            overdispersion={"phi": r["phi"], "tau2": r["tau2"], "p_value": r["overdispersion_p"],
                            "applied": bool(r["overdispersion_applied"])},
            fit_method=r["fit_method"], converged=bool(r["converged"]), r_squared=float(r["r_squared"]),
            dropped_terms=json.loads(r["dropped_terms"]), note=r["note"],
            tau2_between=float(r["tau2_between"]), rankability=float(r["rankability"]),
            n_fixed=int(r["n_fixed"]),
        )


def modelled_period(entry: registry.Entry, period: str, reference_date, settings: Settings) -> str | None:
    """The period whose case-mix comparison a report of ``period`` shows for ``entry``.

    For an indicator without a follow-up window, ``period`` itself. With a window (herhaald beroep,
    nieuwe start, recidive ...), the latest period of the same length, at or before ``period``,
    whose window has fully passed at the reference date — the most recent period that can be
    judged. ``None`` when no such period exists.

    >>> e = registry.get("jbjr_herhaald_beroep")
    >>> modelled_period(e, "2024", "2024-12-31", DEFAULT)
    '2023'
    >>> modelled_period(registry.get("jh_uitval"), "2024", "2024-12-31", DEFAULT)
    '2024'
    """
    months = entry.window_months(settings)
    if not months:
        return period
    _, _, granularity = parse_period(period)
    last_judgeable = pd.Timestamp(reference_date) - pd.DateOffset(months=months)
    candidate = latest_complete_period(last_judgeable, granularity)
    return candidate if parse_period(candidate)[0] <= parse_period(period)[0] else period


def _change_indicator(entry: registry.Entry) -> bool:
    return "mean_change" in entry.breakdowns


def _summary_rows(summaries, kind: str):
    rows, coefs, calib = [], [], []
    for s in summaries:
        key = dict(indicator=s.indicator, kind=kind, period=s.period, care_type=s.care_type)
        od = s.overdispersion or {}
        rows.append({
            **key, "model": s.model, "covariates": json.dumps(list(s.covariates)),
            "c_statistic": s.c_statistic, "r_squared": s.r_squared, "n_records": s.n_records,
            "n_events": s.n_events, "n_lacking_covariates": s.n_lacking_covariates,
            "n_institutions": s.n_institutions, "phi": od.get("phi", np.nan), "tau2": od.get("tau2", np.nan),
            "overdispersion_p": od.get("p_value", np.nan), "overdispersion_applied": bool(od.get("applied", False)),
            "fit_method": s.fit_method, "converged": bool(s.converged),
            "dropped_terms": json.dumps([str(t) for t in s.dropped_terms]), "note": s.note or "",
            "tau2_between": s.tau2_between, "rankability": s.rankability, "n_fixed": s.n_fixed,
        })
        if len(s.coefficients):
            coefs.append(s.coefficients.assign(**key))
        if len(s.calibration):
            calib.append(s.calibration.assign(**key))
    return rows, coefs, calib


def _frame(parts: list[pd.DataFrame], key_first=("indicator", "kind", "period", "care_type"),
           columns=()) -> pd.DataFrame:
    """The parts stacked, key columns first. With no parts, an empty table that still has every
    column (``key_first`` and ``columns``), so that a selection on it is empty, never a KeyError."""
    if not parts:
        return pd.DataFrame(columns=list(dict.fromkeys([*key_first, *columns])))
    out = pd.concat(parts, ignore_index=True)
    first = [c for c in key_first if c in out.columns]
    return out[first + [c for c in out.columns if c not in first]]


def _verloop(data: Dataset, granularity: str, settings: Settings, prepared=None) -> pd.DataFrame:
    """Duration quartiles of ended episodes and Kaplan-Meier quartiles (``prepared``: the shared
    arrays of ``data`` made by ``indicators.prepare`` for this granularity and settings, reused)."""
    from outcome_analysis.statistics import disclosure, survival
    from outcome_analysis import indicators

    ended = indicators.verloop_profile(data if prepared is None else prepared, granularity=granularity,
                                       settings=settings)
    ended["suppressed"] = disclosure.suppress(ended.assign(numerator=ended["n"], denominator=ended["n"]), settings, kind="mean")["suppressed"]
    km = survival.episode_durations(data, granularity=granularity, settings=settings)
    return pd.concat([ended, km], ignore_index=True)


def compute_results(data: Dataset, settings: Settings | None = None, granularity: str = "year",
                    periods=None, actions: pd.DataFrame | None = None) -> Results:
    """Compute every figure a report needs, for all institutions at once.

    Parameters
    ----------
    data : Dataset
    settings : Settings, optional
    granularity : {"year", "half_year"}
        Period length of the indicator tables.
    periods : list of str, optional
        The report periods for which the case-mix models are fitted (indicator tables always cover
        every period, for the trends). Default: the latest complete period at the reference date.
    actions : DataFrame, optional
        The verbeteracties (:func:`outcome_analysis.contract.actions.read_actions`): their course in the
        report periods is added (``action_course``, ``action_points``, ``action_vlad``:
        :func:`outcome_analysis.running.actions.action_course`).

    Returns
    -------
    Results

    Notes
    -----
    One logistic model per case-mix indicator, modelled period and care type (and a linear model of
    the mean change for ROM and threat). A model that cannot be fitted (too few records, no events)
    is recorded with its note; it never stops the computation.

    Each indicator's unit rows are built once (one builder call per indicator): the pass that
    computes the indicator table also hands the records of the case-mix indicators to their models
    (every report period and kind fitted from the same frame), and the table, those records and
    the verloop profile share one set of per-trajectory arrays (``indicators.prepare``), dropped
    when the computation ends. Only report periods of another length than ``granularity`` need a
    second build of those indicators' records (one per length).
    """
    settings = DEFAULT if settings is None else settings
    if periods is None:
        periods = [latest_complete_period(data.reference_date, granularity)]
    periods = [str(p) for p in periods]

    from outcome_analysis import indicators

    # the two ROM warnings are recorded as structured facts in meta["instruments"] instead
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=indicators.UnknownInstrumentWarning)
        warnings.simplefilter("ignore", category=indicators.DerivedNormWarning)
        results = _compute_results(data, settings, granularity, periods)
        if actions is not None and len(actions):
            from outcome_analysis.running import actions as action_tables

            results = action_tables.attach(results, action_tables.action_course(data, results, actions, settings,
                                                                                periods))
        return results


def instrument_facts(data: Dataset) -> dict:
    """What every report's methods section says about the ROM instruments of the delivery.

    Returns ``{"derived_norms": [{"instrument", "norm_mean", "norm_sd", "n"}...],
    "unknown": {instrument: n trajectories}}``: norms taken from the data for instruments without a
    population norm (:func:`outcome_analysis.indicators.derive_missing_norms`), and instruments
    that are not in the instrument table (their scores are counted as missing).
    """
    from outcome_analysis import indicators
    from outcome_analysis.statistics import stats

    table = stats.instruments()
    completed, _ = indicators.derive_missing_norms(table, data.trajectories)
    derived = []
    for key in table.index:
        if pd.isna(table.at[key, "norm_sd"]) and pd.notna(completed.at[key, "norm_sd"]):
            n = int(((data.trajectories["rom_instrument"].astype("object") == key)
                     & data.trajectories["rom_start"].notna()).sum())
            derived.append({"instrument": key, "norm_mean": float(completed.at[key, "norm_mean"]),
                            "norm_sd": float(completed.at[key, "norm_sd"]), "n": n})
    used = data.trajectories["rom_instrument"].dropna().astype("object")
    unknown = used[~used.isin(list(table.index))].value_counts()
    return {"derived_norms": derived, "unknown": {str(k): int(v) for k, v in unknown.items()}}


def _casemix_plan(data: Dataset, settings: Settings, periods: list[str]) -> dict[str, list[tuple[str, str, tuple]]]:
    """Indicator id -> ``(report period, modelled period, kinds)`` of every case-mix model to fit,
    in registry order (the order of the stored tables). Empty for a delivery of one institution:
    nothing to compare it with."""
    if len(data.institutions) < 2:
        return {}
    plan: dict[str, list[tuple[str, str, tuple]]] = {}
    for entry in registry.REGISTRY.values():
        if not entry.casemix or entry.same_as or entry.kind == "context":
            continue
        items = []
        for report_period in periods:
            period = modelled_period(entry, report_period, data.reference_date, settings)
            if period is not None:
                items.append((report_period, period, ("share", "mean") if _change_indicator(entry) else ("share",)))
        if items:
            plan[entry.id] = items
    return plan


def _compute_results(data: Dataset, settings: Settings, granularity: str, periods: list[str]) -> Results:
    from outcome_analysis.statistics import casemix
    from outcome_analysis.indicators import context, quality
    from outcome_analysis import indicators

    plan = _casemix_plan(data, settings, periods)
    fitted: dict[tuple[str, int, str], pd.DataFrame] = {}

    def fit(indicator: str, records: pd.DataFrame, of_granularity: str) -> None:
        """Every model of ``indicator`` whose modelled period is of ``of_granularity``, from its records."""
        for i, (report_period, period, kinds) in enumerate(plan[indicator]):
            if parse_period(period)[2] != of_granularity:
                continue
            for kind in kinds:
                try:
                    adjusted = casemix.adjust_indicator(records, indicator, period=period, settings=settings, kind=kind)
                except casemix.CaseMixError:
                    continue
                fitted[indicator, i, kind] = adjusted.assign(indicator=indicator, report_period=report_period)

    # One set of shared arrays for the table, the case-mix records and the verloop profile, and one
    # build of each indicator's unit rows: compute aggregates them into the table and hands the
    # records of the case-mix indicators to their models in the same pass.
    prepared = indicators.prepare(data, granularity, settings)
    table = indicators.compute(prepared, granularity=granularity, settings=settings, records_to={
        indicator: (lambda records, indicator=indicator: fit(indicator, records, granularity)) for indicator in plan})
    for indicator, items in plan.items():
        # report periods of another length than the tables' (rare): those records built once per length
        for other in sorted({parse_period(period)[2] for _, period, _ in items} - {granularity}):
            fit(indicator, indicators.records(data, indicator, granularity=other, settings=settings), other)
    # the context's figures get the indicator tables' secondary rules too (printed beside the pooled one)
    ctx = context.protect(context.compute_context(data, granularity=granularity, settings=settings), settings)
    qual = quality.completeness(data, granularity=granularity)
    verloop = _verloop(data, granularity, settings, prepared)
    del prepared

    share_parts, mean_parts, summary_rows, coef_parts, calib_parts = [], [], [], [], []
    for indicator, items in plan.items():
        for i, (_, _, kinds) in enumerate(items):
            for kind in kinds:
                adjusted = fitted.get((indicator, i, kind))
                if adjusted is None:
                    continue
                (share_parts if kind == "share" else mean_parts).append(adjusted)
                rows, coefs, calib = _summary_rows(adjusted.attrs.get("summaries", []), kind)
                summary_rows += rows
                coef_parts += coefs
                calib_parts += calib

    meta = {
        "instruments": instrument_facts(data),
        "settings": settings.to_dict(),
        "granularity": granularity,
        "periods": periods,
        "all_periods": sorted(table["period"].dropna().unique().tolist()),
        "reference_date": f"{data.reference_date:%Y-%m-%d}",
        "institutions": data.institutions,
        "care_types": served_care_types(data),
        "contract": contract(data),
        "n_trajectories": int(len(data.trajectories)),
        "version": __version__,
        "created": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
    }
    summaries = pd.DataFrame(summary_rows, columns=list(SUMMARY_COLUMNS))
    for frame in (share_parts + mean_parts):
        frame.attrs.clear()
    key = ("indicator", "report_period", "period", "care_type")
    casemix_table = _frame(share_parts, key, casemix.OUTPUT_COLUMNS)
    casemix_mean_table = _frame(mean_parts, key, casemix.MEAN_OUTPUT_COLUMNS)
    from outcome_analysis.running import comparisons

    return Results(
        indicators=table, context=ctx, quality=qual, verloop=verloop,
        casemix=casemix_table, casemix_mean=casemix_mean_table,
        comparisons=comparisons.build(table, casemix_table, casemix_mean_table, settings),
        model_summaries=summaries,
        coefficients=_frame(coef_parts, columns=("term", "covariate", "reference", "odds_ratio", "estimate",
                                                 "ci_low", "ci_high", "p_value")),
        calibration=_frame(calib_parts, columns=("decile", "n", "observed", "expected")),
        status=indicator_status(table, qual, meta=meta, settings=settings, periods=periods),
        meta=meta,
    )


def served_care_types(data: Dataset) -> dict[str, list[str]]:
    """Institution -> the care types it has trajectories of, in any period (aggregate facts only)."""
    t = data.trajectories
    pairs = t[["institution", "care_type"]].dropna().drop_duplicates()
    out: dict[str, list[str]] = {}
    for inst, care in zip(pairs["institution"].astype(str), pairs["care_type"].astype(str)):
        out.setdefault(inst, []).append(care)
    order = {c: i for i, c in enumerate(schema.CARE_TYPES)}
    return {k: sorted(v, key=lambda c: order.get(c, 9)) for k, v in sorted(out.items())}


def contract(data: Dataset) -> dict[str, bool]:
    """Which optional parts of the data contract (:data:`CONTRACT_PARTS`) the delivery held.

    A table counts when it has rows; a group of trajectory columns when each of its columns holds
    a value in at least one trajectory (a column the loader added empty does not count).

    >>> from outcome_analysis import schema
    >>> d = Dataset(schema.frame("trajectories", [{"trajectory_id": "t1", "client_id": "k1",
    ...     "institution": "A", "care_type": "jb", "care_form": "ots", "start_date": "2023-01-01",
    ...     "birth_year": 2010, "threat_start": 3, "threat_end": 2}]))
    >>> c = contract(d)
    >>> c["threat"], c["experience"], c["rom"]
    (True, False, False)
    """
    out = {}
    for part, (table, cols) in CONTRACT_PARTS.items():
        frame = getattr(data, table)
        if not cols:
            out[part] = bool(len(frame))
        else:
            out[part] = all(c in frame.columns and bool(frame[c].notna().any()) for c in cols)
    return out


#: the care-type families: an institution is compared only with institutions of its own family.
CARE_TYPE_FAMILIES = (("jeugdhulp",), ("jb", "jr"))


def care_type_family(care_type: str) -> tuple[str, ...]:
    """The family of a care type: ``("jeugdhulp",)`` or ``("jb", "jr")``.

    >>> care_type_family("jr")
    ('jb', 'jr')
    """
    for family in CARE_TYPE_FAMILIES:
        if care_type in family:
            return family
    return (care_type,)


def indicator_part(entry: registry.Entry, care_type: str) -> str | None:
    """The contract part ``entry`` needs for ``care_type`` (:data:`INDICATOR_PARTS`), following
    ``restates`` and ``same_as``; ``None`` when it needs only the required columns."""
    target = entry.restates.get(care_type) or entry.same_as or entry.id
    return INDICATOR_PARTS.get(entry.id) or INDICATOR_PARTS.get(target)


def _headline_lookup(table: pd.DataFrame) -> dict:
    """(indicator, scope, institution, period, care_type, window) -> (denominator, visible) of each
    headline; for an indicator without a headline row (a pure distribution) the largest denominator
    of its categories, visible when any category is."""
    t = table
    window = t["window_months"].astype("Float64").fillna(-1).astype(float).to_numpy()
    frame = pd.DataFrame({
        "indicator": t["indicator"].astype(str).to_numpy(), "scope": t["scope"].astype(str).to_numpy(),
        "institution": t["institution"].fillna("").astype(str).to_numpy(), "period": t["period"].astype(str).to_numpy(),
        "care_type": t["care_type"].astype(str).to_numpy(), "window": window,
        "headline": (t["category"].fillna("") == "").to_numpy(),
        "denominator": pd.to_numeric(t["denominator"], errors="coerce").fillna(0).to_numpy(float),
        "visible": (~t["suppressed"].fillna(False).astype(bool) & t["value"].notna()).to_numpy(bool),
    })
    keys = ["indicator", "scope", "institution", "period", "care_type", "window"]
    heads = frame.loc[frame["headline"]]
    cats = frame.loc[~frame["headline"]].groupby(keys, sort=False).agg(denominator=("denominator", "max"),
                                                                       visible=("visible", "any")).reset_index()
    out = {tuple(r[:6]): (r[6], r[7]) for r in cats.itertuples(index=False, name=None)}
    out.update({tuple(r[:6]): (r[6], r[7]) for r in heads[keys + ["denominator", "visible"]].itertuples(index=False, name=None)})
    return out


def indicator_status(table: pd.DataFrame, quality: pd.DataFrame, *, meta: dict, settings: Settings,
                     periods) -> pd.DataFrame:
    """What every indicator shows in the reports of ``periods``: one status per indicator, scope,
    institution and care type (:data:`STATUSES`), decided once for every consumer.

    Parameters
    ----------
    table : DataFrame
        :func:`outcome_analysis.indicators.compute` output (suppression marked).
    quality : DataFrame
        :func:`outcome_analysis.quality.completeness` (its ``end_reason`` rows count the ended
        trajectories per institution, period and care type).
    meta : dict
        The results' ``meta``: ``institutions``, ``care_types`` (served care types), ``contract``,
        ``reference_date``.
    settings : Settings
    periods : list of str
        Report periods; an indicator with a follow-up window is judged in its shown period
        (:func:`modelled_period`).

    Returns
    -------
    DataFrame
        :data:`STATUS_COLUMNS`: ``scope`` ``institution`` (one row per institution) or ``national``
        (``institution`` ``""``: the delivery as a whole); ``period`` is the period whose figure is
        shown; ``reason`` is the missing contract part for ``niet_aangeleverd``, ``none_ended``,
        ``few`` (fewer ended trajectories than the threshold) or ``few_with_data`` (enough ended,
        too few with the records the figure needs) for ``te_weinig_gegevens``, else ``""``.

    Notes
    -----
    In this order: a care type the institution (or the delivery) has no trajectories of is
    ``niet_van_toepassing``; an indicator whose contract part (:func:`indicator_part`) the delivery
    lacks is ``niet_aangeleverd``; a figure with fewer than ``settings.min_denominator`` records
    (or none) is ``te_weinig_gegevens``; a figure hidden by disclosure control is ``verborgen``;
    otherwise ``getoond``. Context items are left out (they are shown beside the outcomes).
    """
    held = dict(meta.get("contract") or {})
    served = {k: set(v) for k, v in (meta.get("care_types") or {}).items()}
    delivered_types = set().union(*served.values()) if served else set()
    institutions = list(meta.get("institutions") or [])
    reference_date = meta.get("reference_date")
    lookup = _headline_lookup(table)
    q = quality.loc[quality["item"] == "end_reason"]
    ended = {(str(i or ""), str(p), str(c)): float(d) for i, p, c, d in
             zip(q["institution"].fillna(""), q["period"], q["care_type"], q["denominator"])}
    rows = []
    for entry in registry.REGISTRY.values():
        if entry.kind == "context":
            continue
        months = entry.window_months(settings)
        window = float(months) if months else -1.0
        source = entry.same_as or entry.id
        for report_period in periods:
            shown = modelled_period(entry, str(report_period), reference_date, settings) or str(report_period)
            for care_type in entry.care_types:
                part = indicator_part(entry, care_type)
                target = entry.restates.get(care_type) or source
                for scope, inst in [("national", "")] + [("institution", i) for i in institutions]:
                    offered = served.get(inst, set()) if inst else delivered_types
                    reason = ""
                    if care_type not in offered:
                        status = "niet_van_toepassing"
                    elif part and not held.get(part, True):
                        status, reason = "niet_aangeleverd", part
                    else:
                        found = lookup.get((entry.id, scope, inst, shown, care_type, window)) or \
                            lookup.get((target, scope, inst, shown, care_type, window))
                        if found is None or found[0] < settings.min_denominator:
                            status = "te_weinig_gegevens"
                            n_ended = ended.get((inst, shown, care_type), 0)
                            # enough ended trajectories, too few of them with the records this figure
                            # rests on (measurements, answers, goals): say so, not "too few ended"
                            # (episodes and youths are counted otherwise than trajectories: "few")
                            subset = entry.unit in ("trajectory", "answer") and n_ended >= settings.min_denominator
                            reason = "none_ended" if n_ended <= 0 else "few_with_data" if subset else "few"
                        elif not found[1]:
                            status = "verborgen"
                        else:
                            status = "getoond"
                    rows.append((entry.id, scope, inst, care_type, str(report_period), shown, status, reason))
    return pd.DataFrame(rows, columns=list(STATUS_COLUMNS))
