"""The record-level case-mix model behind :mod:`outcome_analysis.statistics.casemix`.

The design matrix of the registry's covariates (categories with a reference level, a ``missing``
level for an unknown value, the number of earlier trajectories binned), the logistic fit
(``statsmodels`` GLM, binomial; ridge-penalised when the data separate or the fit fails), the
coefficient table with odds ratios and intervals, and the model's checks: the c-statistic
(Hanley & McNeil 1982) and calibration by decile of the expected value.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.linalg
import statsmodels.api as sm
from scipy import stats as sps

NUMERIC_COVARIATES = ("baseline",)
MISSING = "missing"


def c_statistic(y, p) -> float:
    """Area under the ROC curve (c-statistic) with average ranks for ties, vectorised.

    Equals the Mann-Whitney U of the predictions of events against non-events divided by
    ``n1 * n0`` (Hanley & McNeil 1982). NaN when all outcomes are equal.

    >>> c_statistic([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    n1 = y.sum()
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = sps.rankdata(p)  # average ranks for ties
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def calibration_by_decile(y, p, groups: int = 10) -> pd.DataFrame:
    """Observed against expected per decile of the prediction.

    Records are ordered by prediction and cut into ``groups`` groups of (nearly) equal size.

    Returns
    -------
    DataFrame
        ``decile`` (1..groups), ``n``, ``observed`` (sum of y), ``expected`` (sum of p).
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    n = len(p)
    if n == 0:
        return pd.DataFrame({"decile": pd.Series(dtype=int), "n": pd.Series(dtype=int),
                             "observed": pd.Series(dtype=float), "expected": pd.Series(dtype=float)})
    order = np.argsort(p, kind="stable")
    decile = np.empty(n, dtype=np.int64)
    decile[order] = np.arange(n) * groups // n
    return pd.DataFrame({
        "decile": np.arange(1, groups + 1),
        "n": np.bincount(decile, minlength=groups),
        "observed": np.bincount(decile, weights=y, minlength=groups),
        "expected": np.bincount(decile, weights=p, minlength=groups),
    })


@dataclass
class _Covariate:
    name: str
    kind: str  # "categorical" | "numeric"
    codes: np.ndarray | None = None  # categorical: int codes into levels
    levels: list = field(default_factory=list)
    reference: int = 0
    missing: np.ndarray | None = None  # bool per record
    values: np.ndarray | None = None  # numeric, missing filled with the mean
    dropped_levels: dict = field(default_factory=dict)  # level -> reason


def _bin_earlier(values: pd.Series) -> pd.Series:
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    out = np.where(np.isnan(x), None, np.where(x <= 0, "0", np.where(x < 2, "1", "2+")))
    return pd.Series(out, index=values.index, dtype=object)


def _covariate(frame: pd.DataFrame, name: str, numeric: tuple) -> _Covariate:
    col = frame[name]
    if name in numeric:
        x = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        miss = np.isnan(x)
        fill = float(np.nanmean(x)) if (~miss).any() else 0.0
        return _Covariate(name, "numeric", missing=miss, values=np.where(miss, fill, x))
    if name == "earlier_trajectories":
        col = _bin_earlier(col)
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    levels = [str(u) for u in uniques]
    miss = codes < 0
    if miss.any():
        codes = np.where(miss, len(levels), codes)
        levels.append(MISSING)
    counts = np.bincount(codes, minlength=len(levels))
    non_missing = [i for i, lev in enumerate(levels) if lev != MISSING]
    reference = max(non_missing, key=lambda i: counts[i]) if non_missing else 0
    return _Covariate(name, "categorical", codes=codes.astype(np.int64), levels=levels,
                      reference=reference, missing=miss)


class Design:
    """Covariates as integer codes; dummy/numeric columns built on demand for any set of rows."""

    def __init__(self, frame: pd.DataFrame, covariates, numeric=NUMERIC_COVARIATES):
        self.covariates = [_covariate(frame, c, numeric) for c in covariates]
        self.n = len(frame)
        self.missing = np.zeros(self.n, dtype=bool)
        for cov in self.covariates:
            self.missing |= cov.missing
        self.dropped: list[str] = []
        self.keep: np.ndarray | None = None  # column mask after the rank check

    def merge_constant_levels(self, y: np.ndarray) -> None:
        """Merge levels in which y does not vary into the reference level (separation)."""
        for cov in self.covariates:
            if cov.kind != "categorical":
                continue
            n_lev = len(cov.levels)
            counts = np.bincount(cov.codes, minlength=n_lev)
            events = np.bincount(cov.codes, weights=y, minlength=n_lev)
            for j in range(n_lev):
                if j == cov.reference or counts[j] == 0:
                    continue
                if events[j] == 0 or events[j] == counts[j]:
                    what = "no events" if events[j] == 0 else "only events"
                    cov.dropped_levels[j] = what
                    self.dropped.append(
                        f"{cov.name}[{cov.levels[j]}] merged into reference "
                        f"{cov.levels[cov.reference]!r} ({what} in {int(counts[j])} records)")

    def terms(self) -> list[tuple[str, str, str]]:
        """(term, covariate, reference) per column, before the rank check."""
        out = [("Intercept", "", "")]
        for cov in self.covariates:
            if cov.kind == "numeric":
                out.append((cov.name, cov.name, ""))
                if cov.missing.any():
                    out.append((f"{cov.name}[{MISSING}]", cov.name, ""))
            else:
                ref = cov.levels[cov.reference]
                out += [(f"{cov.name}[{lev}]", cov.name, ref) for j, lev in enumerate(cov.levels)
                        if j != cov.reference and j not in cov.dropped_levels]
        return out

    def matrix(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The design matrix (intercept first) for ``rows`` (all rows when None)."""
        m = self.n if rows is None else len(rows)
        cols = [np.ones(m)]
        for cov in self.covariates:
            if cov.kind == "numeric":
                vals = cov.values if rows is None else cov.values[rows]
                cols.append(vals)
                if cov.missing.any():
                    cols.append((cov.missing if rows is None else cov.missing[rows]).astype(float))
            else:
                codes = cov.codes if rows is None else cov.codes[rows]
                for j in range(len(cov.levels)):
                    if j != cov.reference and j not in cov.dropped_levels:
                        cols.append((codes == j).astype(float))
        x = np.column_stack(cols)
        return x if self.keep is None else x[:, self.keep]

    def pattern_key(self) -> tuple[np.ndarray, np.ndarray, int]:
        """Integer pattern of every record: (first row of each pattern, inverse, n_patterns)."""
        key = np.zeros(self.n, dtype=np.int64)
        size = 1
        for cov in self.covariates:
            if cov.kind == "numeric":
                codes, uniq = pd.factorize(cov.values)
                k = len(uniq)
                codes = codes * 2 + cov.missing
                k *= 2
            else:
                codes = np.where(np.isin(cov.codes, list(cov.dropped_levels)), cov.reference, cov.codes)
                k = len(cov.levels)
            if size * k >= 2 ** 62:  # recompress before the key overflows
                _, key = np.unique(key, return_inverse=True)
                size = int(key.max()) + 1
            key = key * k + codes
            size *= k
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        return first, inverse.ravel(), len(first)

    def check_rank(self, x_small: np.ndarray, names: list[str]) -> list[str]:
        """Drop linearly dependent columns (pivoted QR on a small matrix); return kept names."""
        _, r, piv = scipy.linalg.qr(x_small, mode="economic", pivoting=True)
        diag = np.abs(np.diag(r))
        tol = diag.max() * max(x_small.shape) * np.finfo(float).eps * 100 if diag.size else 0
        rank = int((diag > tol).sum())
        keep = np.zeros(x_small.shape[1], dtype=bool)
        keep[np.sort(piv[:rank])] = True
        keep[0] = True if rank else keep[0]
        for j in np.flatnonzero(~keep):
            self.dropped.append(f"{names[j]} dropped (collinear with other terms)")
        self.keep = keep
        return [n for n, k in zip(names, keep) if k]


def fit_logistic(design: Design, y: np.ndarray):
    """Fit the logistic model, collapsed to covariate patterns when that pays.

    Returns (p per record, result or None, params, bse or None, fit_method, converged, note).
    """
    first, inverse, n_pat = design.pattern_key()
    collapse = n_pat <= design.n / 4
    if collapse:
        trials = np.bincount(inverse, minlength=n_pat).astype(float)
        events = np.bincount(inverse, weights=y, minlength=n_pat)
    names = [t[0] for t in design.terms()]
    # rank check on the pattern representatives (small), or a sample of rows
    rep = first if collapse else np.unique(np.concatenate(
        [first[: 20000], np.random.default_rng(0).choice(design.n, min(design.n, 20000), replace=False)]))
    design.keep = None
    kept = design.check_rank(design.matrix(rep), names)
    if collapse:
        x = design.matrix(first)
        endog = np.column_stack([events, trials - events])
    else:
        x = design.matrix()
        endog = y
    model = sm.GLM(endog, x, family=sm.families.Binomial())
    note = ""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = model.fit(maxiter=100)
            converged = bool(res.converged)
            params = res.params
            bse = res.bse
            bad = (not converged or not np.all(np.isfinite(bse)) or np.any(np.abs(params[1:]) > 15))
        except Exception as exc:  # PerfectSeparationError, LinAlgError
            res, bad, converged, note = None, True, False, f"IRLS failed ({type(exc).__name__}); "
    # statsmodels also warns "perfect separation or prediction" when a pattern-level fit is saturated
    # (fitted = observed share per pattern) -- a well-posed model. Real (quasi-)separation shows as
    # fitted probabilities at 0 or 1.
    warned = any("separation" in str(w.message).lower() for w in caught)
    separation = False
    if warned and res is not None:
        fitted = np.asarray(res.fittedvalues)
        separation = bool(np.any((fitted < 1e-8) | (fitted > 1 - 1e-8)))
    if bad or separation:
        reg = model.fit_regularized(alpha=1e-4, L1_wt=0.0, maxiter=200)
        params = np.asarray(reg.params)
        bse = None
        res = None
        fit_method = "ridge"
        note += ("the maximum-likelihood fit did not converge or showed (quasi-)separation; "
                 "a ridge-penalised fit (alpha=1e-4) was used and odds-ratio intervals are not given")
    else:
        fit_method = "irls"
    p_pat = model.predict(params)
    p = p_pat[inverse] if collapse else p_pat
    return p, res, params, bse, kept, fit_method, converged, note


def coefficient_table(design: Design, kept: list[str], params, bse, res, *, odds: bool,
                       conf: float = 0.95) -> pd.DataFrame:
    info = {t: (c, r) for t, c, r in design.terms()}
    params = np.asarray(params, dtype=float)
    if res is not None:
        ci = np.asarray(res.conf_int(alpha=1 - conf))
        pv = np.asarray(res.pvalues, dtype=float)
    else:
        ci = np.full((len(params), 2), np.nan)
        pv = np.full(len(params), np.nan)
    transform = np.exp if odds else (lambda v: v)
    return pd.DataFrame({
        "term": kept,
        "covariate": [info[t][0] for t in kept],
        "reference": [info[t][1] for t in kept],
        "odds_ratio" if odds else "estimate": transform(params),
        "ci_low": transform(ci[:, 0]),
        "ci_high": transform(ci[:, 1]),
        "p_value": pv,
    })


def empty_coefficients(odds: bool = True) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object if c in ("term", "covariate", "reference") else float)
                         for c in ("term", "covariate", "reference",
                                   "odds_ratio" if odds else "estimate", "ci_low", "ci_high", "p_value")})
