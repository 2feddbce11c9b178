"""Case-mix adjusted comparisons between institutions (indirect standardisation).

Three layers, each working on what it is handed:

* :func:`adjust_records` / :func:`adjust_mean_change` do all the work on any ``records`` frame
  (one row per unit: ``institution``, ``outcome``, the covariates; see docs/architecture.md);
* :func:`adjust_indicator` takes the records of one registry indicator (the frame of
  ``indicators.records``, all periods and care types) and applies the registry's rules: case-mix
  indicators only, their care types, their kind, the per-youth national share. It never computes
  from the trajectories, so a caller that models several periods or kinds builds the records once
  (``results.compute_results`` builds them in the same pass as the indicator table);
* :func:`adjust` / :func:`fit_summary` take a :class:`~outcome_analysis.dataset.Dataset` (or a
  trajectories DataFrame) and an indicator id, build the records with one
  ``indicators.records`` call and hand them to :func:`adjust_indicator`.

The record-level model itself (design matrix, logistic fit with its ridge fallback, coefficient
table, c-statistic, calibration) is :mod:`outcome_analysis.statistics.casemix_model`.

Binary indicators
    A logistic model (``statsmodels.genmod.generalized_linear_model.GLM`` with the ``Binomial``
    family, IRLS) on the whole population of the period and care type (records with the outcome
    measured and the follow-up window passed), covariates default ``settings.covariates``.
    Expected count per institution = sum of predicted probabilities (indirect standardisation);
    adjusted share = O/E x national share. Verdict and interval come from one computation
    (:func:`outcome_analysis.statistics.verdict.oe_verdict`): ``z = (O/E - 1) / sqrt(s^2 + tau2)``
    with the null variance ``s^2 = sum p (1 - p) / E^2`` (a sum of Bernoullis, not Poisson: Poisson
    limits are far too wide for common outcomes) and Spiegelhalter's winsorised ``tau2``, read at
    ``settings.signal_limit``; the interval ``O/E -/+ z_q sqrt(s^2 + tau2)`` at that level, so that
    ``signal == "higher"`` exactly when ``oe_ci_low > 1``. Below ``settings.min_expected`` expected
    events or non-events: ``signal == "none"`` and a NaN interval.
Change scores
    The headline share goes the same logistic route with the ``baseline`` score as an extra
    covariate (law of initial value); :func:`adjust_mean_change` fits a linear model
    (``statsmodels.regression.linear_model.OLS``) of the change on baseline and covariates:
    adjusted mean = observed mean - expected mean + national mean.

Design matrix
    Categorical covariates become dummy columns (reference level: the most frequent level) built
    from integer codes in NumPy; a missing value is its own level ``"missing"`` (never dropped) and
    is counted per institution (``n_missing_covariates``). ``earlier_trajectories`` is binned
    ``0``, ``1``, ``2+``. ``baseline`` is numeric (linear), a missing baseline is set to the mean
    with an indicator column. Records sharing one covariate pattern are collapsed to
    (events, trials) before fitting, which gives the same maximum-likelihood fit in a fraction of
    the time; with a continuous baseline the fit runs on the record level.
Separation
    A level of a categorical covariate in which the outcome does not vary (all 0 or all 1; e.g.
    voogdij episodes that always end regularly) is left out of the fit and its records get E = O,
    the maximum-likelihood limit (never merged into the reference level, which would shift every
    other record's expected value); linearly dependent columns are dropped (pivoted QR); other
    (quasi-)separation, found by non-convergence or a linear-programming check, falls back to
    Firth's penalised likelihood with the intercept re-estimated so that sum E = sum O (FLIC;
    Puhr et al. 2017). All of it is reported in the :class:`ModelSummary` (``dropped_terms``,
    ``fit_method``, ``n_fixed``, ``note``).
Shrinkage and rankability (never beside a verdict)
    ``oe_shrunk``: an empirical-Bayes (normal-normal) estimate of the O/E on the log scale with the
    between-institution variance estimated *without* winsorising (method of moments,
    :func:`outcome_analysis.statistics.verdict.between_variance`); NaN when that variance is 0.
    The summary's ``rankability`` is ``tau2 / (tau2 + median s_i^2)`` (Lingsma et al. 2010).

References
----------
Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance. *Stat Med*
24:1185-1202.
Spiegelhalter DJ (2005). Handling over-dispersion of performance indicators. *Qual Saf Health Care*
14:347-351.
Breslow NE, Day NE (1987). *Statistical Methods in Cancer Research II*, ch. 2 (indirect
standardisation, exact interval of the SMR).
Morris CN (1983). Parametric empirical Bayes inference: theory and applications. *JASA* 78:47-55.
Clayton D, Kaldor J (1987). Empirical Bayes estimates of age-standardized relative risks for use in
disease mapping. *Biometrics* 43:671-681.
Hanley JA, McNeil BJ (1982). The meaning and use of the area under a ROC curve. *Radiology*
143:29-36 (c-statistic as the Mann-Whitney statistic).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats as sps

from outcome_analysis import texts
from outcome_analysis.errors import OutcomeAnalysisError
from outcome_analysis.settings import DEFAULT, Settings

from . import funnel, verdict
from .casemix_model import (
    Design,
    c_statistic,
    calibration_by_decile,
    coefficient_table,
    empty_coefficients,
    fit_beside_constant_levels,
    fit_logistic,
)

__all__ = [
    "CaseMixError",
    "ModelSummary",
    "adjust",
    "adjust_indicator",
    "adjust_mean_change",
    "adjust_records",
    "c_statistic",
    "calibration_by_decile",
    "fit_summary",
]

GROUP_COLUMNS = ("period", "care_type")

OUTPUT_COLUMNS = [
    "institution", "care_type", "period", "n", "observed", "expected", "oe_ratio", "oe_ci_low",
    "oe_ci_high", "oe_ci_level", "national_value", "raw_value", "adjusted_value", "signal",
    "n_missing_covariates", "n_fixed", "oe_shrunk", "oe_shrunk_ci_low", "oe_shrunk_ci_high", "z",
    "funnel_low", "funnel_high",
]
#: the columns that are NaN when no model is fitted.
_OE_COLUMNS = ("expected", "oe_ratio", "oe_ci_low", "oe_ci_high", "adjusted_value", "oe_shrunk",
               "oe_shrunk_ci_low", "oe_shrunk_ci_high", "z", "funnel_low", "funnel_high", "n_fixed")
MEAN_OUTPUT_COLUMNS = [
    "institution", "care_type", "period", "n", "observed_mean", "expected_mean", "national_mean",
    "adjusted_mean", "ci_low", "ci_high", "ci_level", "z", "funnel_low", "funnel_high", "signal",
    "n_missing_covariates",
]


class CaseMixError(OutcomeAnalysisError, ValueError):
    """A case-mix request that cannot be met (unknown covariate, indicator without case-mix, ...)."""


# --------------------------------------------------------------------------------------------------
# model summary


def _labels(lang: str) -> dict:
    """The summary labels in ``lang`` (``data/texts/casemix.yaml``); :class:`CaseMixError` for a
    language outside ``texts.LANGS``."""
    return texts.for_lang("casemix", lang, error=CaseMixError)


@dataclass
class ModelSummary:
    """What one case-mix model did, for the methods section of a report.

    Attributes
    ----------
    indicator, period, care_type : str or None
        What was modelled.
    model : str
        ``"logistic"`` (GLM Binomial), ``"linear"`` (OLS) or ``"none"`` (too few records / no events).
    covariates : tuple of str
        The characteristics adjusted for.
    coefficients : DataFrame
        ``term``, ``covariate``, ``reference`` (the reference level of a categorical covariate),
        ``odds_ratio`` (logistic) or ``estimate`` (linear), ``ci_low``, ``ci_high`` (95%),
        ``p_value``. Empty when no model was fitted.
    c_statistic : float
        Area under the ROC curve of the predicted probabilities (logistic only).
    r_squared : float
        Linear only.
    calibration : DataFrame
        ``decile``, ``n``, ``observed``, ``expected`` per decile of the prediction (sums for the
        logistic model, means for the linear one).
    n_records, n_events, n_lacking_covariates, n_institutions : int
        Records in the model, events (logistic), records with at least one covariate missing,
        institutions.
    overdispersion : dict
        ``phi``, ``tau2``, ``p_value``, ``applied`` (and ``n``, ``trim``, ``alpha``).
    fit_method : str
        ``"irls"``, ``"ols"``, ``"firth_flic"`` (Firth's penalised likelihood with the intercept
        re-estimated, after non-convergence or (quasi-)separation) or ``"none"``.
    converged : bool
    dropped_terms : list of str
        Levels left out of the fit (every record the same outcome: E = O) and collinear columns
        dropped, with the reason.
    note : str
        Anything a reader must know (too few records, fallback fit, ...); empty when all went well.
    tau2_between : float
        The between-institution variance of the O/E, unwinsorised (method of moments;
        :func:`outcome_analysis.statistics.verdict.between_variance`), behind ``oe_shrunk`` and the
        rankability. NaN for a linear model or without a model.
    rankability : float
        ``tau2_between / (tau2_between + median s_i^2)`` (Lingsma et al. 2010); NaN with fewer than
        10 institutions at or above ``min_expected``.
    n_fixed : int
        Records left out of the fit because their level has one outcome only (given E = O).
    """

    indicator: str | None
    period: str | None
    care_type: str | None
    model: str
    covariates: tuple
    coefficients: pd.DataFrame
    c_statistic: float
    calibration: pd.DataFrame
    n_records: int
    n_events: int
    n_lacking_covariates: int
    n_institutions: int
    overdispersion: dict
    fit_method: str = "irls"
    converged: bool = True
    r_squared: float = float("nan")
    dropped_terms: list = field(default_factory=list)
    note: str = ""
    tau2_between: float = float("nan")
    rankability: float = float("nan")
    n_fixed: int = 0

    def to_frame(self, lang: str = "en") -> pd.DataFrame:
        """The key facts as a two-column table (``item``, ``value``), labels in ``lang``."""
        lab = _labels(lang)
        od = self.overdispersion or {}
        yes_no = lambda b: lab["yes"] if b else lab["no"]  # noqa: E731
        rows = [
            ("indicator", self.indicator), ("period", self.period), ("care_type", self.care_type),
            ("model", lab.get(self.model, self.model)),
            ("covariates", ", ".join(self.covariates)),
            ("n_records", self.n_records), ("n_events", self.n_events),
            ("n_lacking_covariates", self.n_lacking_covariates),
            ("n_institutions", self.n_institutions),
            ("c_statistic" if self.model != "linear" else "r_squared",
             self.c_statistic if self.model != "linear" else self.r_squared),
            ("phi", od.get("phi")), ("tau2", od.get("tau2")), ("p_value", od.get("p_value")),
            ("applied", yes_no(od.get("applied", False))),
            ("tau2_between", self.tau2_between), ("rankability", self.rankability),
            ("n_fixed", self.n_fixed),
            ("fit_method", self.fit_method),
            ("dropped_terms", "; ".join(self.dropped_terms) or lab["none"]),
        ]
        if self.note:
            rows.append(("note", self.note))
        return pd.DataFrame({"item": [lab[k] for k, _ in rows], "value": [v for _, v in rows]})

    def coefficients_frame(self, lang: str = "en") -> pd.DataFrame:
        """The coefficient table with headers in ``lang``."""
        lab = _labels(lang)
        table = self.coefficients.drop(columns=["covariate", "reference"], errors="ignore")
        names = {c: lab.get(c, c) for c in table.columns}
        names["p_value"] = "p"
        return table.rename(columns=names)

    def to_markdown(self, lang: str = "en", digits: int = 3) -> str:
        """A methods paragraph, the facts and the coefficient table as Markdown."""
        lab = _labels(lang)
        parts = [lab["intro"].format(model=lab.get(self.model, self.model)), "",
                 _markdown_table(self.to_frame(lang), digits)]
        if len(self.coefficients):
            parts += ["", _markdown_table(self.coefficients_frame(lang), digits)]
        return "\n".join(parts)

    def to_dict(self) -> dict:
        """Plain data (for JSON manifests): tables as lists of records."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["covariates"] = list(self.covariates)
        out["coefficients"] = self.coefficients.to_dict(orient="records")
        out["calibration"] = self.calibration.to_dict(orient="records")
        return out


def _fmt(value, digits: int) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        return f"{value:.{digits}g}" if abs(value) >= 1e4 or (0 < abs(value) < 1e-3) else f"{value:.{digits}f}"
    return str(value)


def _markdown_table(frame: pd.DataFrame, digits: int) -> str:
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(_fmt(v, digits) for v in row) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


# --------------------------------------------------------------------------------------------------
# fit quality


# --------------------------------------------------------------------------------------------------
# design matrix


# --------------------------------------------------------------------------------------------------
# fitting


# --------------------------------------------------------------------------------------------------
# records -> adjusted comparison


def _prepare(records: pd.DataFrame, covariates, settings: Settings, value: str, category):
    """Records usable for a model: outcome present, window passed, the headline category."""
    covariates = tuple(settings.covariates if covariates is None else covariates)
    needed = {"institution", value, *covariates}
    missing_cols = sorted(needed - set(records.columns))
    if missing_cols:
        raise CaseMixError(f"records lack column(s) {missing_cols} needed for case-mix adjustment; "
                           f"columns present: {sorted(records.columns)}")
    keep = records[value].notna()
    if "excluded_window" in records:
        keep &= ~records["excluded_window"].fillna(False).astype(bool)
    if category is not None and "category" in records:
        keep &= records["category"].fillna("").astype(str) == category
    frame = records.loc[keep]
    for col in GROUP_COLUMNS:
        if col not in frame:
            frame = frame.assign(**{col: ""})
    return frame, covariates


def _use_baseline(frame: pd.DataFrame, covariates: tuple, baseline) -> tuple:
    if baseline is None:
        baseline = "baseline" in frame and frame["baseline"].notna().any()
    if baseline and "baseline" not in covariates:
        if "baseline" not in frame:
            raise CaseMixError("baseline adjustment asked for, but the records have no 'baseline' column")
        covariates = (*covariates, "baseline")
    return covariates


def _per_institution(inst_codes, n_inst, **arrays):
    ok = inst_codes >= 0
    return {k: np.bincount(inst_codes[ok], weights=None if v is None else v[ok], minlength=n_inst)
            for k, v in arrays.items()}


def _no_model(out, columns, summary_args, reasons, note_tail) -> tuple:
    for col in columns:
        out[col] = np.nan
    out["signal"] = "none"
    return out, ModelSummary(**summary_args, note="no case-mix model: " + "; ".join(reasons) + note_tail)


def _adjust_group(frame: pd.DataFrame, covariates: tuple, settings: Settings, indicator,
                  period, care_type, min_records: int, min_events: int):
    y = frame["outcome"].to_numpy(dtype=float)
    if not np.isin(y, (0.0, 1.0)).all():
        raise CaseMixError("a binary indicator's outcome must be 0/1; use adjust_mean_change for means")
    inst_codes, institutions = pd.factorize(frame["institution"], use_na_sentinel=True)
    n_inst = len(institutions)
    design = Design(frame, covariates)
    base = _per_institution(inst_codes, n_inst, n=None, observed=y,
                            n_missing=design.missing.astype(float))
    n_total, events = len(y), float(y.sum())
    national = events / n_total if n_total else float("nan")
    out = pd.DataFrame({
        "institution": np.asarray(institutions, dtype=object),
        "care_type": care_type, "period": period,
        "n": base["n"].astype(np.int64), "observed": base["observed"],
    })
    out["national_value"] = national
    with np.errstate(invalid="ignore", divide="ignore"):
        out["raw_value"] = out["observed"] / out["n"]
    out["n_missing_covariates"] = base["n_missing"].astype(np.int64)
    out["oe_ci_level"] = settings.signal_limit

    reasons = []
    if n_total < min_records:
        reasons.append(f"only {n_total} records (a model needs at least {min_records})")
    if min(events, n_total - events) < min_events:
        reasons.append(f"{int(events)} events among {n_total} records (at least {min_events} events "
                       f"and non-events needed)")
    od_empty = funnel.Overdispersion(n=0, phi=float("nan"), tau2=0.0, p_value=float("nan"), applied=False,
                                     trim=settings.overdispersion_trim, alpha=1 - settings.conf)
    summary_args = dict(
        indicator=indicator, period=period, care_type=care_type, model="none", covariates=covariates,
        coefficients=empty_coefficients(), c_statistic=float("nan"), calibration=calibration_by_decile([], []),
        n_records=n_total, n_events=int(events), n_lacking_covariates=int(design.missing.sum()),
        n_institutions=n_inst, overdispersion=od_empty.to_dict(), fit_method="none", converged=False)
    if reasons:
        out, summary = _no_model(out, _OE_COLUMNS, summary_args, reasons,
                                 ". Expected values are not given and there is no verdict.")
        return out[OUTPUT_COLUMNS], summary

    # separation by a level: its records are left out of the fit and get E = O (the ML limit)
    p, fixed, fixed_notes, fit_design, fit = fit_beside_constant_levels(design, frame, covariates, y)
    res = params = bse = None
    kept, fit_method, converged, note = [], "none", False, ""
    if fit is not None:
        _, res, params, bse, kept, fit_method, converged, note = fit
    agg = _per_institution(inst_codes, n_inst, expected=p, variance=p * (1 - p))
    expected, variance = agg["expected"], agg["variance"]
    observed = out["observed"].to_numpy(float)
    n = out["n"].to_numpy(float)
    v = verdict.oe_verdict(observed, expected, variance, n, settings=settings)
    out["expected"] = expected
    out["oe_ratio"] = v["oe_ratio"]
    out["oe_ci_low"], out["oe_ci_high"] = v["oe_ci_low"], v["oe_ci_high"]
    out["adjusted_value"] = v["oe_ratio"] * national
    out["z"] = v["z"]
    out["funnel_low"], out["funnel_high"] = v["funnel_low"], v["funnel_high"]
    out["signal"] = v["signal"]
    out["n_fixed"] = _per_institution(inst_codes, n_inst, fixed=fixed.astype(float))["fixed"].astype(np.int64)
    # the spread between institutions: unwinsorised, for shrinkage and rankability (never a verdict)
    tau2_between = verdict.between_variance(observed, expected, variance, v["judged"])
    out["oe_shrunk"], out["oe_shrunk_ci_low"], out["oe_shrunk_ci_high"] = verdict.shrink(
        observed, expected, variance, tau2_between, settings.conf)
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = variance / expected ** 2
    rho = verdict.rankability(tau2_between, s2, v["judged"])

    dropped = list(fixed_notes) + list(fit_design.dropped)
    if fixed.any():
        extra = (f"{int(fixed.sum())} records in levels where every record has the same outcome were left "
                 f"out of the model with expected = observed")
        note = f"{note}; {extra}" if note else extra
    fitted = params is not None
    summary = ModelSummary(**dict(
        summary_args, model="logistic" if fitted else "none",
        coefficients=coefficient_table(fit_design, kept, params, bse, res, odds=True) if fitted else empty_coefficients(),
        c_statistic=c_statistic(y[~fixed], p[~fixed]) if fitted else float("nan"),
        calibration=calibration_by_decile(y, p), overdispersion=v["overdispersion"].to_dict(),
        fit_method=fit_method, converged=converged),
        dropped_terms=dropped, note=note, tau2_between=tau2_between, rankability=rho, n_fixed=int(fixed.sum()))
    return out[OUTPUT_COLUMNS], summary


def _by_group(frame: pd.DataFrame, by):
    if not len(frame):
        return [(("", ""), frame)]
    keys = frame[list(by)].astype(object).where(frame[list(by)].notna(), None)
    return [(k if isinstance(k, tuple) else (k,), g)
            for k, g in frame.groupby([keys[c] for c in by], sort=True, dropna=False)]


def _fit_each_group(frame: pd.DataFrame, fit, columns) -> pd.DataFrame:
    """``fit(group, period, care_type) -> (rows, ModelSummary)`` for every period and care type of
    ``frame``, the rows stacked in ``columns`` order with the summaries in ``attrs``."""
    parts, summaries = [], []
    for (period, care_type), group in _by_group(frame, GROUP_COLUMNS):
        part, summary = fit(group, period, care_type)
        parts.append(part)
        summaries.append(summary)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    out = out.sort_values(["period", "care_type", "institution"], kind="stable", ignore_index=True)
    out.attrs["summaries"] = summaries
    out.attrs["summary"] = summaries[0] if len(summaries) == 1 else summaries
    return out


def adjust_records(records: pd.DataFrame, *, covariates=None, settings: Settings | None = None,
                   indicator: str | None = None, kind: str = "share", baseline: bool | None = None,
                   category: str | None = "", min_records: int = 50, min_events: int = 5) -> pd.DataFrame:
    """Case-mix adjusted O/E per institution from a records frame (indirect standardisation).

    One model per period and care type in ``records``.

    Parameters
    ----------
    records : DataFrame
        The unit-level frame of ``indicators.records``: ``institution``, ``care_type``, ``period``,
        ``outcome`` (0/1, NaN when missing), ``excluded_window``, the covariates and, for change
        indicators, ``baseline`` and ``change``. Only ``institution``, ``outcome`` and the
        covariates are required.
    covariates : sequence of str, optional
        Default ``settings.covariates``.
    settings : Settings, optional
    indicator : str, optional
        Stored in the summary.
    kind : {"share", "mean"}
        ``"mean"`` hands over to :func:`adjust_mean_change`.
    baseline : bool, optional
        Add the ``baseline`` score as a covariate; default: when the records carry one.
    category : str or None
        Use only records of this ``category`` (``""``: the headline share); None uses all.
    min_records, min_events : int
        Below these (records; events or non-events) no model is fitted: ``expected`` and the O/E
        columns are NaN, ``signal`` is ``"none"`` and the summary's ``note`` says why.

    Returns
    -------
    DataFrame
        One row per institution, period and care type: ``institution``, ``care_type``, ``period``,
        ``n`` (records in the model), ``observed`` (events), ``expected`` (sum of predicted
        probabilities), ``oe_ratio``, ``oe_ci_low``, ``oe_ci_high`` (the verdict's own interval,
        ``O/E -/+ z_q sqrt(s^2 + tau2)`` at ``oe_ci_level`` = ``settings.signal_limit``),
        ``national_value`` (share in the whole population), ``raw_value`` (O / n),
        ``adjusted_value`` (O/E x national share), ``signal`` (``higher`` | ``lower`` | ``within`` |
        ``none``: :func:`outcome_analysis.statistics.verdict.oe_verdict`), ``n_missing_covariates``
        (records with any covariate missing, kept as level ``"missing"``), ``n_fixed`` (records
        left out of the fit with E = O), ``oe_shrunk`` with ``oe_shrunk_ci_low`` /
        ``oe_shrunk_ci_high`` (empirical Bayes at ``settings.conf``; NaN without between-institution
        variance), ``z`` (overdispersion-adjusted z-score of the O/E), ``funnel_low`` /
        ``funnel_high`` (``1 -/+ z_q sqrt(s^2 + tau2)``: the range chance and the usual differences
        between institutions explain).
        ``.attrs["summaries"]``: list of :class:`ModelSummary`, one per model;
        ``.attrs["summary"]``: the one summary when there is one model, else the list.

    Notes
    -----
    The model is ``statsmodels`` ``GLM(family=Binomial())`` fitted by IRLS on covariate patterns
    (events, trials), which gives the same estimates as a record-level fit. See the module
    docstring for the design matrix, separation handling and shrinkage.

    References
    ----------
    Spiegelhalter DJ (2005). *Stat Med* 24:1185-1202; Spiegelhalter DJ (2005). *Qual Saf Health
    Care* 14:347-351.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> recs = pd.DataFrame({"institution": rng.choice(list("ABCD"), 2000),
    ...                      "complexity": rng.choice(["laag", "hoog"], 2000)})
    >>> recs["outcome"] = (rng.random(2000) < np.where(recs.complexity == "hoog", 0.3, 0.7)).astype(float)
    >>> out = adjust_records(recs, covariates=["complexity"])
    >>> out[["institution", "n"]].to_dict("list")
    {'institution': ['A', 'B', 'C', 'D'], 'n': [478, 508, 467, 547]}
    >>> bool(np.isclose(out.observed.sum(), out.expected.sum()))
    True
    """
    settings = settings or DEFAULT
    if kind == "mean":
        return adjust_mean_change(records, covariates=covariates, settings=settings,
                                  indicator=indicator, category=category, min_records=min_records)
    if kind != "share":
        raise CaseMixError(f"case-mix adjustment is for kind 'share' or 'mean', got {kind!r}")
    frame, covariates = _prepare(records, covariates, settings, "outcome", category)
    covariates = _use_baseline(frame, covariates, baseline)
    return _fit_each_group(frame, lambda group, period, care_type: _adjust_group(
        group, covariates, settings, indicator, period, care_type, min_records, min_events), OUTPUT_COLUMNS)


def _mean_group(frame, covariates, settings, indicator, period, care_type, value, min_records):
    yv = frame[value].to_numpy(dtype=float)
    inst_codes, institutions = pd.factorize(frame["institution"], use_na_sentinel=True)
    n_inst = len(institutions)
    design = Design(frame, covariates)
    base = _per_institution(inst_codes, n_inst, n=None, total=yv, n_missing=design.missing.astype(float))
    n = base["n"]
    national = float(yv.mean()) if len(yv) else float("nan")
    out = pd.DataFrame({"institution": np.asarray(institutions, dtype=object),
                        "care_type": care_type, "period": period, "n": n.astype(np.int64)})
    with np.errstate(invalid="ignore", divide="ignore"):
        out["observed_mean"] = base["total"] / n
    out["national_mean"] = national
    out["n_missing_covariates"] = base["n_missing"].astype(np.int64)
    out["ci_level"] = settings.signal_limit
    od_empty = funnel.Overdispersion(0, float("nan"), 0.0, float("nan"), False,
                                     settings.overdispersion_trim, 1 - settings.conf)
    if len(yv) < min_records:
        out, summary = _no_model(
            out, ("expected_mean", "adjusted_mean", "ci_low", "ci_high", "z", "funnel_low", "funnel_high"),
            dict(indicator=indicator, period=period, care_type=care_type, model="none", covariates=covariates,
                 coefficients=empty_coefficients(odds=False), c_statistic=float("nan"),
                 calibration=calibration_by_decile([], []), n_records=len(yv), n_events=0,
                 n_lacking_covariates=int(design.missing.sum()), n_institutions=n_inst,
                 overdispersion=od_empty.to_dict(), fit_method="none", converged=False),
            [f"only {len(yv)} records (at least {min_records} needed)"], "")
        return out[MEAN_OUTPUT_COLUMNS], summary

    names = [t[0] for t in design.terms()]
    sample = np.random.default_rng(0).choice(design.n, min(design.n, 20000), replace=False)
    kept = design.check_rank(design.matrix(np.sort(sample)), names)
    res = sm.OLS(yv, design.matrix()).fit()
    fitted = res.fittedvalues
    sigma = float(np.sqrt(res.scale))
    agg = _per_institution(inst_codes, n_inst, fitted=fitted)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected_mean = agg["fitted"] / n
        observed_mean = out["observed_mean"].to_numpy(float)
        adjusted = observed_mean - expected_mean + national
        s = sigma / np.sqrt(n)
    v = verdict.mean_verdict(adjusted, national, s, n, settings=settings)
    od = v["overdispersion"]
    out["expected_mean"] = expected_mean
    out["adjusted_mean"] = adjusted
    out["ci_low"], out["ci_high"] = v["ci_low"], v["ci_high"]
    out["z"] = v["z"]
    out["funnel_low"], out["funnel_high"] = v["funnel_low"], v["funnel_high"]
    out["signal"] = v["signal"]
    cal = calibration_by_decile(yv, fitted)
    with np.errstate(invalid="ignore", divide="ignore"):
        cal["observed"] = cal["observed"] / cal["n"]
        cal["expected"] = cal["expected"] / cal["n"]
    summary = ModelSummary(
        indicator=indicator, period=period, care_type=care_type, model="linear",
        covariates=covariates,
        coefficients=coefficient_table(design, kept, res.params, res.bse, res, odds=False),
        c_statistic=float("nan"), r_squared=float(res.rsquared), calibration=cal,
        n_records=len(yv), n_events=0, n_lacking_covariates=int(design.missing.sum()),
        n_institutions=n_inst, overdispersion=od.to_dict(), fit_method="ols", converged=True,
        dropped_terms=list(design.dropped))
    return out[MEAN_OUTPUT_COLUMNS], summary


def adjust_mean_change(records: pd.DataFrame, *, covariates=None, settings: Settings | None = None,
                       indicator: str | None = None, value: str = "change", baseline: bool = True,
                       category: str | None = "", min_records: int = 50) -> pd.DataFrame:
    """Case-mix adjusted mean change per institution (linear model with the baseline score).

    Parameters
    ----------
    records : DataFrame
        As for :func:`adjust_records`, with ``value`` (default ``"change"``) and ``baseline``.
    value : str
        The column holding the change score (records where it is missing are left out).
    baseline : bool
        Adjust for the baseline score (law of initial value: the starting score predicts the
        change most strongly).

    Returns
    -------
    DataFrame
        ``institution``, ``care_type``, ``period``, ``n``, ``observed_mean``, ``expected_mean``
        (mean of the fitted values of the institution's records), ``national_mean``,
        ``adjusted_mean`` (observed - expected + national), ``ci_low``, ``ci_high`` (the verdict's
        own interval, ``adjusted -/+ z_q sqrt(s^2 + tau2)`` with ``s = sigma / sqrt(n)`` at
        ``ci_level`` = ``settings.signal_limit``), ``z``, ``funnel_low``, ``funnel_high`` (the same
        half-width around the national mean), ``signal`` (``higher`` exactly when ``ci_low`` is
        above the national mean; ``none`` below ``settings.min_denominator`` records),
        ``n_missing_covariates``. ``.attrs["summary"]`` as for
        :func:`adjust_records` (``model="linear"``, coefficients as ``estimate``).

    Notes
    -----
    ``statsmodels`` ``OLS`` on the record-level design matrix.
    """
    settings = settings or DEFAULT
    frame, covariates = _prepare(records, covariates, settings, value, category)
    covariates = _use_baseline(frame, covariates, baseline)
    return _fit_each_group(frame, lambda group, period, care_type: _mean_group(
        group, covariates, settings, indicator, period, care_type, value, min_records), MEAN_OUTPUT_COLUMNS)


# --------------------------------------------------------------------------------------------------
# indicator layer: the records of one registry indicator, handed in or (``adjust``) built once


def _casemix_entry(indicator: str, care_type: str | None = None):
    """The registry entry of ``indicator``, checked: case-mix adjusted, applying to ``care_type``."""
    from outcome_analysis.indicators import registry

    entry = registry.get(indicator)
    if not getattr(entry, "casemix", False):
        raise CaseMixError(f"indicator {indicator!r} is not case-mix adjusted (registry: casemix false)")
    if care_type is not None:
        allowed = getattr(entry, "care_types", None)
        if allowed is not None and care_type not in allowed:
            raise CaseMixError(f"indicator {indicator!r} does not apply to care type {care_type!r}; "
                               f"it applies to {list(allowed)}")
    return entry


def _check_records(records: pd.DataFrame, indicator: str, period: str | None) -> None:
    """The columns :func:`adjust_indicator` reads besides the model's, and the period labels'
    granularity against ``period``'s."""
    from outcome_analysis.contract.periods import parse_period

    missing = sorted({"institution", "care_type", "period", "category", "outcome"} - set(records.columns))
    if missing:
        raise CaseMixError(f"the records of {indicator!r} lack column(s) {missing}; hand the frame of "
                           f"indicators.records(data, {indicator!r}, granularity=...)")
    known = records["period"].notna().to_numpy(bool)
    if period is not None and known.any():
        label = str(records["period"].iloc[int(known.argmax())])
        if parse_period(label)[2] != parse_period(period)[2]:
            raise CaseMixError(f"the records of {indicator!r} have {parse_period(label)[2]} periods ({label!r}); "
                               f"period {period!r} needs records of granularity {parse_period(period)[2]!r}")


def adjust_indicator(records: pd.DataFrame, indicator: str, *, period: str | None = None,
                     care_type: str | None = None, covariates=None, settings: Settings | None = None,
                     kind: str | None = None) -> pd.DataFrame:
    """Case-mix adjusted comparison of institutions for one indicator, from the records handed in.

    The registry's rules on top of :func:`adjust_records`: only ``casemix: true`` indicators, only
    the care types the indicator applies to, the registry's kind by default, and for per-youth
    indicators the national share with each youth counted once. Nothing is computed from the
    trajectories here: a caller that models several periods or kinds of one indicator builds its
    records once and hands them to every call.

    Parameters
    ----------
    records : DataFrame
        The frame ``indicators.records(data, indicator, granularity=..., settings=...)`` gives (one
        row per counted unit and category; see there). Read: ``institution``, ``care_type``,
        ``period`` (labels of one granularity), ``category``, ``outcome`` (0/1 for shares; NaN when
        missing or the window has not passed), ``excluded_window``, the covariates, ``baseline``
        and ``change`` for change indicators, and for per-youth indicators ``client_id`` and
        ``anchor_date``. It may hold every period and care type: they are selected here. Not
        modified.
    indicator : str
        Registry id; it must have ``casemix: true``.
    period : str, optional
        ``"2024"`` or ``"2024H1"`` (the granularity of the records' labels); default every period
        in the records (one model each).
    care_type : str, optional
        Default every care type in the records (one model each).
    covariates : sequence of str, optional
        Default ``settings.covariates``; ``baseline`` is added for change indicators.
    settings : Settings, optional
        The settings the records were built with (``DEFAULT`` when omitted).
    kind : {"share", "mean"}, optional
        Default ``"mean"`` when the registry's kind is ``"mean"``, else ``"share"``.

    Returns
    -------
    DataFrame
        :data:`OUTPUT_COLUMNS` (see :func:`adjust_records`) or, for ``kind="mean"``,
        :data:`MEAN_OUTPUT_COLUMNS` (see :func:`adjust_mean_change`); one row per institution,
        period and care type; ``.attrs["summaries"]`` and ``.attrs["summary"]``. For a per-youth
        indicator (registry unit ``youth``) ``national_value`` and ``adjusted_value`` rest on the
        national share with each youth once (:func:`_national_per_youth`).

    Raises
    ------
    UnknownIndicatorError
        For an id not in the registry.
    CaseMixError
        For an indicator without case-mix adjustment, a care type it does not apply to, records
        that lack a column read here, or records whose period labels are of another granularity
        than ``period``.
    """
    settings = settings or DEFAULT
    entry = _casemix_entry(indicator, care_type)
    _check_records(records, indicator, period)
    recs = records
    if period is not None:
        recs = recs.loc[recs["period"].astype(str) == str(period)]
    if care_type is not None:
        recs = recs.loc[recs["care_type"].astype(str) == str(care_type)]
    kind = kind or ("mean" if getattr(entry, "kind", "share") == "mean" else "share")
    out = adjust_records(recs, covariates=covariates, settings=settings, indicator=indicator, kind=kind)
    if kind == "share" and getattr(entry, "unit", "") == "youth" and len(out):
        out = _national_per_youth(out, records)
    return out


def adjust(data, indicator: str, *, period: str | None = None, care_type: str | None = None,
           covariates=None, settings: Settings | None = None, kind: str | None = None) -> pd.DataFrame:
    """Case-mix adjusted comparison of institutions for one indicator, from a delivery.

    The convenience path for one call: builds the records once with
    ``indicators.records(data, indicator, granularity=<period's>, settings=settings)`` and hands them
    to :func:`adjust_indicator`. To model several periods or kinds of one indicator, build the
    records once and call :func:`adjust_indicator` for each.

    Parameters
    ----------
    data : Dataset or DataFrame
        A loaded delivery; a trajectories DataFrame is wrapped in a ``Dataset``.
    indicator : str
        Registry id; it must have ``casemix: true``.
    period : str, optional
        ``"2024"`` or ``"2024H1"``; its granularity is that of the records (default: yearly records,
        every period in the data, one model each).
    care_type, covariates, settings, kind
        As for :func:`adjust_indicator`.

    Returns
    -------
    DataFrame
        See :func:`adjust_indicator`; ``.attrs["summary"]``.

    Raises
    ------
    UnknownIndicatorError
        For an id not in the registry.
    CaseMixError
        For an indicator without case-mix adjustment or a care type it does not apply to (before
        any record is built).
    """
    from outcome_analysis import indicators
    from outcome_analysis.contract.dataset import Dataset
    from outcome_analysis.contract.periods import parse_period

    settings = settings or DEFAULT
    _casemix_entry(indicator, care_type)
    if isinstance(data, pd.DataFrame):
        data = Dataset(data)
    granularity = parse_period(period)[2] if period is not None else "year"
    recs = indicators.records(data, indicator, granularity=granularity, settings=settings)
    return adjust_indicator(recs, indicator, period=period, care_type=care_type, covariates=covariates,
                            settings=settings, kind=kind)


def _national_per_youth(out: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """Per-youth indicators: the national share counts each youth once (indicators.md).

    The records behind the model hold one row per youth *and institution* (a youth whose episodes
    ended at two institutions is counted at both, which is right for indirect standardisation of
    each institution), so their pooled share is not the national figure. Here it is taken from the
    same records as ``indicators.compute`` takes its national rows: of the headline rows
    (``category == ""``) of each period, each youth's last by ``anchor_date`` (the later row on a
    tie), whatever its care type; the share is the mean ``outcome`` of those with the outcome
    known and the window passed, per period and care type (a youth whose last row is still in its
    window is left out, with no fall-back to an earlier row). ``national_value`` and
    ``adjusted_value`` (O/E x national) are replaced where that share exists (a denominator > 0).

    ``records`` may hold every care type (a youth's last row may be of another care type than the
    modelled one) and every period; it is not modified.
    """
    periods = sorted(set(out["period"].astype(str)))
    head = records.loc[(records["category"] == "").to_numpy(bool) & records["period"].isin(periods).to_numpy(bool)]
    head = head.iloc[np.argsort(head["anchor_date"].to_numpy(), kind="stable")]
    last = head.loc[~head.duplicated(["client_id", "period"], keep="last").to_numpy()]
    valid = last["outcome"].notna().to_numpy() & ~last["excluded_window"].fillna(False).astype(bool).to_numpy()
    counts = pd.DataFrame({"period": last["period"].astype(str).to_numpy(),
                           "care_type": last["care_type"].astype(object).to_numpy(),
                           "n": valid.astype(np.int64),
                           "events": np.where(valid, last["outcome"].to_numpy(dtype=float), 0.0)})
    sums = counts.dropna(subset=["care_type"]).groupby(["period", "care_type"], sort=False)[["n", "events"]].sum()
    national = {(str(p), str(c)): float(e) / float(n)
                for (p, c), n, e in zip(sums.index, sums["n"], sums["events"]) if n > 0}
    found = np.array([national.get(k, np.nan) for k in zip(out["period"].astype(str), out["care_type"].astype(str))],
                     dtype=float)
    attrs = out.attrs
    out = out.copy()
    out["national_value"] = np.where(np.isnan(found), out["national_value"], found)
    out["adjusted_value"] = out["oe_ratio"] * out["national_value"]
    out.attrs = attrs
    return out


def fit_summary(data, indicator: str, *, period: str | None = None, care_type: str | None = None,
                covariates=None, settings: Settings | None = None, kind: str | None = None):
    """The :class:`ModelSummary` (or list of them, one per period and care type) behind :func:`adjust`."""
    out = adjust(data, indicator, period=period, care_type=care_type, covariates=covariates,
                 settings=settings, kind=kind)
    return out.attrs["summary"]
