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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__, atomic, registry
# the computing modules (statsmodels, scipy) are imported where they are used, so that a notebook
# that only reads stored results starts fast
from .dataset import Dataset
from .errors import OutcomeAnalysisError
from .periods import latest_complete_period, parse_period
from .settings import DEFAULT, Settings

#: the tables of a results store, in the order they are written.
TABLES = (
    "indicators", "context", "quality", "verloop", "casemix", "casemix_mean",
    "model_summaries", "coefficients", "calibration",
)

#: one row per case-mix model (the scalar facts of ``casemix.ModelSummary``).
SUMMARY_COLUMNS = (
    "indicator", "kind", "period", "care_type", "model", "covariates", "c_statistic", "r_squared",
    "n_records", "n_events", "n_lacking_covariates", "n_institutions", "phi", "tau2",
    "overdispersion_p", "overdispersion_applied", "fit_method", "converged", "dropped_terms", "note",
)


class ResultsError(OutcomeAnalysisError):
    """A results folder that cannot be read (missing table, wrong version)."""


@dataclass
class Results:
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
        :func:`outcome_analysis.casemix.adjust` (shares) for every case-mix indicator in the report
        periods, with an ``indicator`` and ``report_period`` column (``period`` is the period that
        was modelled: for an indicator with a follow-up window, the latest period whose window
        has passed).
    casemix_mean : DataFrame
        Adjusted mean change (linear model with the baseline score) for the change indicators.
    model_summaries, coefficients, calibration : DataFrame
        The case-mix models, one row per model / per coefficient / per decile, keyed by
        ``indicator``, ``kind``, ``period`` and ``care_type``.
    meta : dict
        ``instruments`` (:func:`instrument_facts`: ROM norms derived from the data, instruments
        unknown to the instrument table), ``settings``, ``granularity``,
        ``periods`` (report periods), ``reference_date``,
        ``institutions``, ``n_trajectories``, ``version``, ``created``.
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
    meta: dict = field(default_factory=dict)

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

    def save(self, folder: str | os.PathLike) -> Path:
        """Write every table as Parquet and ``meta.json`` into ``folder`` (created if missing).

        Each file is written to a temporary name and renamed into place, so a reader never sees a
        half-written table.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in TABLES:
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
        meta = json.loads((folder / "meta.json").read_text())
        return cls(**tables, meta=meta)

    def summary(self, indicator: str, period: str, care_type: str, kind: str = "share") -> casemix.ModelSummary | None:
        """The case-mix :class:`~outcome_analysis.casemix.ModelSummary` of one model, rebuilt from the tables."""
        from . import casemix

        key = dict(indicator=indicator, period=period, care_type=care_type, kind=kind)
        rows = _select(self.model_summaries, **key)
        if rows.empty:
            return None
        r = rows.iloc[0]
        coefs = _select(self.coefficients, **key).drop(columns=list(key)).reset_index(drop=True)
        calib = _select(self.calibration, **key).drop(columns=list(key)).reset_index(drop=True)
        return casemix.ModelSummary(
            indicator=indicator, period=period, care_type=care_type, model=r["model"],
            covariates=tuple(json.loads(r["covariates"])), coefficients=coefs.dropna(axis=1, how="all"),
            c_statistic=float(r["c_statistic"]), calibration=calib.dropna(axis=1, how="all"),
            n_records=int(r["n_records"]), n_events=int(r["n_events"]),
            n_lacking_covariates=int(r["n_lacking_covariates"]), n_institutions=int(r["n_institutions"]),
            overdispersion={"phi": r["phi"], "tau2": r["tau2"], "p_value": r["overdispersion_p"],
                            "applied": bool(r["overdispersion_applied"])},
            fit_method=r["fit_method"], converged=bool(r["converged"]), r_squared=float(r["r_squared"]),
            dropped_terms=json.loads(r["dropped_terms"]), note=r["note"],
        )


def _select(frame: pd.DataFrame, **where) -> pd.DataFrame:
    mask = np.ones(len(frame), dtype=bool)
    for key, value in where.items():
        mask &= (frame[key] == value).to_numpy()
    return frame.loc[mask]


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
        })
        if len(s.coefficients):
            coefs.append(s.coefficients.assign(**key))
        if len(s.calibration):
            calib.append(s.calibration.assign(**key))
    return rows, coefs, calib


def _frame(parts: list[pd.DataFrame], key_first=("indicator", "kind", "period", "care_type")) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(columns=list(key_first))
    out = pd.concat(parts, ignore_index=True)
    first = [c for c in key_first if c in out.columns]
    return out[first + [c for c in out.columns if c not in first]]


def _verloop(data: Dataset, granularity: str, settings: Settings) -> pd.DataFrame:
    from . import disclosure, indicators, survival

    ended = indicators.verloop_profile(data, granularity=granularity, settings=settings)
    ended["suppressed"] = disclosure.suppress(ended.assign(numerator=ended["n"], denominator=ended["n"]), settings)["suppressed"]
    km = survival.episode_durations(data, granularity=granularity, settings=settings)
    return pd.concat([ended, km], ignore_index=True)


def compute_results(data: Dataset, settings: Settings | None = None, granularity: str = "year",
                    periods=None) -> Results:
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

    Returns
    -------
    Results

    Notes
    -----
    One logistic model per case-mix indicator, modelled period and care type (and a linear model of
    the mean change for ROM and threat). A model that cannot be fitted (too few records, no events)
    is recorded with its note; it never stops the computation.
    """
    settings = DEFAULT if settings is None else settings
    if periods is None:
        periods = [latest_complete_period(data.reference_date, granularity)]
    periods = [str(p) for p in periods]

    from . import indicators

    # the two ROM warnings are recorded as structured facts in meta["instruments"] instead
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=indicators.UnknownInstrumentWarning)
        warnings.simplefilter("ignore", category=indicators.DerivedNormWarning)
        return _compute_results(data, settings, granularity, periods)


def instrument_facts(data: Dataset) -> dict:
    """What every report's methods section says about the ROM instruments of the delivery.

    Returns ``{"derived_norms": [{"instrument", "norm_mean", "norm_sd", "n"}...],
    "unknown": {instrument: n trajectories}}``: norms taken from the data for instruments without a
    population norm (:func:`outcome_analysis.indicators.derive_missing_norms`), and instruments
    that are not in the instrument table (their scores are counted as missing).
    """
    from . import indicators, stats

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


def _compute_results(data: Dataset, settings: Settings, granularity: str, periods: list[str]) -> Results:
    from . import casemix, context, indicators, quality

    table = indicators.compute(data, granularity=granularity, settings=settings)
    ctx = context.compute_context(data, granularity=granularity, settings=settings)
    qual = quality.completeness(data, granularity=granularity)
    verloop = _verloop(data, granularity, settings)

    share_parts, mean_parts, summary_rows, coef_parts, calib_parts = [], [], [], [], []
    entries = [e for e in registry.REGISTRY.values() if e.casemix and not e.same_as and e.kind != "context"]
    for entry in entries:
        for report_period in periods:
            period = modelled_period(entry, report_period, data.reference_date, settings)
            if period is None:
                continue
            kinds = ("share", "mean") if _change_indicator(entry) else ("share",)
            for kind in kinds:
                try:
                    adjusted = casemix.adjust(data, entry.id, period=period, settings=settings, kind=kind)
                except casemix.CaseMixError:
                    continue
                adjusted = adjusted.assign(indicator=entry.id, report_period=report_period)
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
        "n_trajectories": int(len(data.trajectories)),
        "version": __version__,
        "created": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
    }
    summaries = pd.DataFrame(summary_rows, columns=list(SUMMARY_COLUMNS))
    for frame in (share_parts + mean_parts):
        frame.attrs.clear()
    return Results(
        indicators=table, context=ctx, quality=qual, verloop=verloop,
        casemix=_frame(share_parts, ("indicator", "report_period", "period", "care_type")),
        casemix_mean=_frame(mean_parts, ("indicator", "report_period", "period", "care_type")),
        model_summaries=summaries,
        coefficients=_frame(coef_parts), calibration=_frame(calib_parts), meta=meta,
    )
