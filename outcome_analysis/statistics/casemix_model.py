"""The record-level case-mix model behind :mod:`outcome_analysis.statistics.casemix`.

The design matrix of the registry's covariates (categories with a reference level, a ``missing``
level for an unknown value, the number of earlier trajectories binned), the logistic fit
(``statsmodels`` GLM, binomial; Firth's penalised likelihood with the intercept correction FLIC
when the data separate or the fit fails), the levels left out of the fit because every record in
them has the same outcome, the coefficient table with odds ratios and intervals, and the model's
checks: the c-statistic (Hanley & McNeil 1982) and calibration by decile of the expected value.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.linalg
import statsmodels.api as sm
from scipy import optimize as spo
from scipy import special as spsp
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

    def constant_levels(self, y) -> tuple[np.ndarray, list[str]]:
        """Records in a level of a categorical covariate in which the outcome does not vary.

        A level (the reference level and the ``missing`` level included) whose records all have
        outcome 0, or all 1, has a maximum-likelihood coefficient at minus or plus infinity
        (quasi-complete separation). Its records are left out of the model; the caller gives them
        their own outcome as expected value (the limit of the maximum-likelihood fit), so
        expected = observed within the level. Leaving records out can make a level of another
        covariate constant among the records that remain, so this repeats until no level is
        constant (a fixpoint). The design itself is not changed: build a new
        ``Design(frame[~mask], covariates)`` on the remaining records, which recomputes the
        reference levels there.

        Returns
        -------
        mask : ndarray of bool
            True for a record in a level left out.
        notes : list of str
            One sentence per level left out, in the order found.
        """
        y = np.asarray(y, dtype=float)
        out = np.zeros(self.n, dtype=bool)
        notes: list[str] = []
        first_pass = True
        while True:
            rest = ~out
            found = np.zeros(self.n, dtype=bool)
            for cov in self.covariates:
                if cov.kind != "categorical":
                    continue
                n_lev = len(cov.levels)
                codes = cov.codes[rest]
                counts = np.bincount(codes, minlength=n_lev)
                events = np.bincount(codes, weights=y[rest], minlength=n_lev)
                for j in np.flatnonzero((counts > 0) & ((events == 0) | (events == counts))):
                    outcome = 0 if events[j] == 0 else 1
                    records = "records" if first_pass else "remaining records"
                    notes.append(
                        f"{cov.levels[j]} ({cov.name} = {cov.levels[j]}): all {int(counts[j])} {records} "
                        f"have the outcome {outcome}; left out of the model, expected = observed")
                    found |= rest & (cov.codes == j)
            if not found.any():
                return out, notes
            out |= found
            first_pass = False

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
                        if j != cov.reference]
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
                    if j != cov.reference:
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
                codes = cov.codes
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


def separation(x, events, trials) -> bool:
    """Whether the rows of ``x`` show complete or quasi-complete separation (linear programme).

    The maximum-likelihood estimate of a logistic model is finite if and only if no direction
    ``b`` (other than one with ``x b = 0`` everywhere) has ``x_i b >= 0`` for every row with an
    event and ``x_i b <= 0`` for every row with a non-event (Albert & Anderson 1984). Following
    Konis (2007, *Linear programming algorithms for detecting separated data in binary logistic
    regression models*, DPhil thesis, University of Oxford; the method of the R packages
    ``safeBinaryRegression`` and ``detectseparation``), on rows that may be collapsed covariate
    patterns with ``events`` out of ``trials``: with ``s = +1`` for a row with only events and
    ``s = -1`` for a row with only non-events, and a row with both required to have ``x_i b = 0``,

        maximise  sum over pure rows of s_i x_i b   subject to  s_i x_i b >= 0,  -1 <= b <= 1.

    The optimum is 0 (``b = 0``) unless the data separate. The columns of ``x`` are scaled to a
    largest absolute value of 1 first; separation is declared when the optimum, divided by the
    number of pure rows, exceeds 1e-7. Rows with ``trials == 0`` are ignored. The cost grows with
    the number of rows: pass covariate patterns rather than records where records repeat.

    >>> separation(np.array([[1, -1.], [1, 0], [1, 1], [1, 2]]), [0, 0, 1, 1], [1, 1, 1, 1])
    True
    >>> separation(np.array([[1, -1.], [1, 0], [1, 1], [1, 2]]), [0, 1, 0, 1], [1, 1, 1, 1])
    False
    """
    x = np.asarray(x, dtype=float)
    events = np.asarray(events, dtype=float)
    trials = np.asarray(trials, dtype=float)
    use = trials > 0
    x, events, trials = x[use], events[use], trials[use]
    if x.size == 0:
        return False
    scale = np.abs(x).max(axis=0)
    x = x / np.where(scale > 0, scale, 1.0)
    s = np.where(events <= 0, -1.0, np.where(events >= trials, 1.0, 0.0))
    pure = s != 0
    if not pure.any():
        return False
    sx = s[pure, None] * x[pure]
    mixed = x[~pure]
    res = spo.linprog(-sx.sum(axis=0), A_ub=-sx, b_ub=np.zeros(len(sx)),
                      A_eq=mixed if len(mixed) else None, b_eq=np.zeros(len(mixed)) if len(mixed) else None,
                      bounds=(-1, 1), method="highs")
    if res.status != 0:  # cannot happen (b = 0 is feasible, the box is bounded); do not claim separation
        return False
    return bool(-res.fun / pure.sum() > 1e-7)


def _firth_parts(x, events, trials, beta, offset=None):
    eta = x @ beta if offset is None else x @ beta + offset
    p = spsp.expit(eta)
    w = trials * p * (1 - p)
    info = (x * w[:, None]).T @ x
    chol = np.linalg.cholesky(info)
    loglik = float(np.sum(events * eta - trials * np.logaddexp(0, eta)))
    penalised = loglik + float(np.sum(np.log(np.diag(chol))))  # + 0.5 log det I
    return p, w, info, chol, penalised


def firth_logistic(x, events, trials, *, maxiter: int = 200, tol: float = 1e-10,
                   max_step: float = 5.0):
    """Firth's penalised maximum likelihood for a logistic model (Firth 1993).

    Maximises ``l(b) + 0.5 log det I(b)`` (the Jeffreys prior) by the modified-score Newton
    iteration of Heinze & Schemper (2002) with step halving: weights ``w = trials p (1 - p)``,
    ``h`` the diagonal of ``W^1/2 X (X'WX)^-1 X'W^1/2``, modified score
    ``U* = X'(events - trials p + h (0.5 - p))`` and step ``(X'WX)^-1 U*`` (at most ``max_step`` in
    any coordinate), halved until the penalised log-likelihood does not decrease. Rows may be
    covariate patterns (``events`` out of ``trials``) or records (``trials`` = 1): the penalised
    likelihood is the same. The estimate is finite also under separation.

    Returns (beta, covariance = inverse Fisher information at beta, converged).
    """
    x = np.asarray(x, dtype=float)
    events = np.asarray(events, dtype=float)
    trials = np.asarray(trials, dtype=float)
    beta = np.zeros(x.shape[1])
    share = (events.sum() + 0.5) / (trials.sum() + 1.0)
    beta[0] = np.log(share / (1 - share))
    p, w, info, chol, pen = _firth_parts(x, events, trials, beta)
    converged = False
    for _ in range(maxiter):
        half = scipy.linalg.solve_triangular(chol, (x * np.sqrt(w)[:, None]).T, lower=True)
        h = np.einsum("ij,ij->j", half, half)
        score = x.T @ (events - trials * p + h * (0.5 - p))
        step = scipy.linalg.cho_solve((chol, True), score)
        biggest = np.abs(step).max()
        if biggest > max_step:
            step *= max_step / biggest
        for _halving in range(40):
            try:
                new = _firth_parts(x, events, trials, beta + step)
            except np.linalg.LinAlgError:
                new = None
            if new is not None and new[4] >= pen - 1e-12 * max(1.0, abs(pen)):
                break
            step /= 2
        else:
            break
        beta = beta + step
        p, w, info, chol, pen = new
        if np.abs(step).max() < tol or np.abs(score).max() < tol:
            converged = True
            break
    cov = scipy.linalg.cho_solve((chol, True), np.eye(x.shape[1]))
    return beta, cov, converged


def _intercept_ml(events, trials, offset) -> float:
    """ML intercept with a fixed offset: the root of sum trials * expit(a + offset) = sum events."""
    target = events.sum()

    def excess(a):
        return float(np.sum(trials * spsp.expit(a + offset)) - target)

    lo, hi = -1.0, 1.0
    while excess(lo) > 0:
        lo *= 2
    while excess(hi) < 0:
        hi *= 2
    a = spo.brentq(excess, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500)
    for _ in range(3):  # Newton polish: sum of predictions = sum of events to rounding
        p = spsp.expit(a + offset)
        slope = float(np.sum(trials * p * (1 - p)))
        if slope <= 0:
            break
        a -= excess(a) / slope
    return float(a)


def firth_flic(x, events, trials):
    """Firth's logistic regression with intercept correction (FLIC; Puhr et al. 2017).

    Puhr, Heinze, Nold, Lusa & Geroldinger (2017), Stat Med 36:2302-2317: the slopes of the Firth
    fit are kept and the intercept (column 0 of ``x``) is re-estimated by ordinary maximum
    likelihood with the Firth linear predictor minus its intercept as offset, so that the sum of
    the predicted probabilities equals the number of events. Covariance: the inverse Fisher
    information at the Firth estimate, with the intercept's variance taken from the inverse Fisher
    information at the FLIC predictions (as R ``logistf::flic``).

    Returns (beta, covariance, converged).
    """
    x = np.asarray(x, dtype=float)
    events = np.asarray(events, dtype=float)
    trials = np.asarray(trials, dtype=float)
    beta, cov, converged = firth_logistic(x, events, trials)
    offset = x[:, 1:] @ beta[1:]
    beta = beta.copy()
    beta[0] = _intercept_ml(events, trials, offset)
    p = spsp.expit(x @ beta)
    w = trials * p * (1 - p)
    try:
        cov0 = np.linalg.inv((x * w[:, None]).T @ x)
        cov = cov.copy()
        cov[0, 0] = cov0[0, 0]
    except np.linalg.LinAlgError:
        pass
    return beta, cov, converged


FIRTH_NOTE = ("Firth's penalised likelihood with the intercept re-estimated so that expected = "
              "observed in total (FLIC, Puhr et al. 2017); intervals are Wald intervals from the "
              "penalised fit")


def fit_logistic(design: Design, y: np.ndarray):
    """Fit the logistic model, collapsed to covariate patterns when that pays.

    Ordinary maximum likelihood (``statsmodels`` GLM, IRLS) unless the data separate
    (:func:`separation`, on the covariate patterns when there are at most 20000 of them) or IRLS
    fails, does not converge or gives non-finite standard errors; then Firth's penalised
    likelihood with intercept correction (:func:`firth_flic`). When the separation check is not
    run (more than 20000 patterns, e.g. a continuous baseline), an IRLS fit with a
    coefficient beyond +-15 on the log-odds scale or a prediction within 1e-8 of 0 or 1 is also
    taken as separation.

    Returns (p per record, result or None, params, bse or None, kept term names, fit_method
    ``"irls"`` | ``"firth_flic"``, converged, note). With ``"firth_flic"`` the result is None,
    ``bse`` holds Wald standard errors and ``converged`` says whether the Firth iteration did.
    """
    y = np.asarray(y, dtype=float)
    first, inverse, n_pat = design.pattern_key()
    collapse = n_pat <= design.n / 4
    if collapse:
        trials = np.bincount(inverse, minlength=n_pat).astype(float)
        events = np.bincount(inverse, weights=y, minlength=n_pat)
    else:
        trials = np.ones(design.n)
        events = y
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
    # the LP check runs on the covariate patterns (records with equal covariate values are one row)
    checked = n_pat <= 20000
    if collapse:
        separated = separation(x, events, trials)
    elif checked:
        separated = separation(design.matrix(first), np.bincount(inverse, weights=y, minlength=n_pat),
                               np.bincount(inverse, minlength=n_pat).astype(float))
    else:
        separated = False
    note = ""
    res = None
    converged = False
    if separated:
        note = "(quasi-)separation found (linear-programming check, Konis 2007); "
    else:
        model = sm.GLM(endog, x, family=sm.families.Binomial())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # statsmodels' separation warning also fires for saturated pattern fits
            try:
                res = model.fit(maxiter=100)
                converged = bool(res.converged)
                params = np.asarray(res.params)
                bse = np.asarray(res.bse)
                if not converged or not np.all(np.isfinite(bse)) or not np.all(np.isfinite(params)):
                    note = "the maximum-likelihood fit (IRLS) did not converge; "
                    res = None
                elif not checked:
                    fitted = np.asarray(res.fittedvalues)
                    if np.any(np.abs(params[1:]) > 15) or np.any((fitted < 1e-8) | (fitted > 1 - 1e-8)):
                        note = ("(quasi-)separation suspected (a coefficient beyond +-15 or a "
                                "prediction at 0 or 1); ")
                        res = None
            except Exception as exc:  # PerfectSeparationError, LinAlgError
                res, converged = None, False
                note = f"the maximum-likelihood fit (IRLS) failed ({type(exc).__name__}); "
    if res is None:
        params, cov, converged = firth_flic(x, events, trials)
        bse = np.sqrt(np.diag(cov))
        fit_method = "firth_flic"
        note += FIRTH_NOTE
    else:
        fit_method = "irls"
    p_pat = spsp.expit(x @ params)
    p = p_pat[inverse] if collapse else p_pat
    return p, res, params, bse, kept, fit_method, converged, note


def fit_beside_constant_levels(design: Design, frame: pd.DataFrame, covariates, y: np.ndarray):
    """The logistic model of ``y`` on ``design``, with the records of a level in which every record
    has the same outcome left out of the fit and given E = O (the ML limit;
    :meth:`Design.constant_levels`).

    Parameters
    ----------
    design : Design
        The design of ``frame`` with ``covariates``.
    frame : DataFrame
        The records (``n`` rows), in the order of ``y``.
    covariates : sequence
        As ``design`` was built with (the fit's design is rebuilt on the remaining rows).
    y : array of ``n`` 0/1 floats

    Returns
    -------
    (p, fixed, notes, fit_design, fit)
        ``p``: ``n`` probabilities (``y`` itself on the fixed rows); ``fixed`` (bool per row) and
        ``notes`` from :meth:`Design.constant_levels`; the design the model was fitted on; ``fit``:
        :func:`fit_logistic`'s tuple, or ``None`` when the remaining rows have no events or no
        non-events (then ``p`` is ``y``).
    """
    fixed, notes = design.constant_levels(y)
    p = np.asarray(y, dtype=float).copy()
    fit_rows = ~fixed
    if not (fit_rows.any() and 0 < y[fit_rows].sum() < fit_rows.sum()):
        return p, fixed, notes, design, None
    fit_design = Design(frame.loc[fit_rows], covariates) if fixed.any() else design
    fit = fit_logistic(fit_design, y[fit_rows])
    p[fit_rows] = fit[0]
    return p, fixed, notes, fit_design, fit


def coefficient_table(design: Design, kept: list[str], params, bse, res, *, odds: bool,
                       conf: float = 0.95) -> pd.DataFrame:
    """Coefficients (odds ratios when ``odds``) with intervals at ``conf`` and p-values.

    From ``res`` when given; otherwise, with ``bse`` given (a Firth fit), Wald intervals
    ``params +- z bse`` (``z`` the normal quantile at ``(1 + conf) / 2``) and two-sided Wald
    p-values; without either, NaN.
    """
    info = {t: (c, r) for t, c, r in design.terms()}
    params = np.asarray(params, dtype=float)
    if res is not None:
        ci = np.asarray(res.conf_int(alpha=1 - conf))
        pv = np.asarray(res.pvalues, dtype=float)
    elif bse is not None:
        bse = np.asarray(bse, dtype=float)
        z = sps.norm.ppf((1 + conf) / 2)
        ci = np.column_stack([params - z * bse, params + z * bse])
        with np.errstate(invalid="ignore", divide="ignore"):
            pv = 2 * sps.norm.sf(np.abs(params / bse))
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
