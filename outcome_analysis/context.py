"""Context beside the outcomes: target group, process indicators and *kwesties*.

indicators.md: "Context (process indicators, shown beside the outcomes, never mixed into them):
working alliance, chain cooperation, *kwesties* (counts per code), target-group characteristics
(complexity, perspective, age, out-of-home share)". Waiting time is added because the field names it
as a process indicator too (jeugdhulp: aanmelding to first care contact; jb/jr: ruling to first
contact with the GI's worker).

Anchors: the target group is described by the trajectories that **started** in the period (who came
in); the process indicators measured at the end (working alliance, chain cooperation, kwesties) by
those that **ended** in it; waiting time by start.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import disclosure, stats
from .dataset import Dataset
from .periods import period_of
from .settings import DEFAULT, Settings

#: context id -> (anchor, kind, Dutch label, English label)
CONTEXT_ITEMS = {
    "ctx_complexiteit": ("start", "distribution", "Complexiteit van de problematiek", "Complexity of the problems"),
    "ctx_perspectief": ("start", "distribution", "Toekomstperspectief", "Future perspective"),
    "ctx_leeftijd": ("start", "distribution", "Leeftijd bij start", "Age at start"),
    "ctx_uithuisplaatsing": ("start", "share", "Uithuisplaatsing", "Out-of-home placement"),
    "ctx_wachttijd": ("start", "median", "Wachttijd (dagen)", "Waiting time (days)"),
    "ctx_samenwerkingsrelatie": ("end", "mean", "Samenwerkingsrelatie cliënt–professional (1–5)", "Working alliance (1–5)"),
    "ctx_ketensamenwerking": ("end", "mean", "Ketensamenwerking (1–5)", "Chain cooperation (1–5)"),
    "ctx_kwesties": ("end", "distribution", "Kwesties (externe belemmeringen)", "Issues (external obstacles)"),
}

AGE_BINS = [-np.inf, 3, 11, 15, 17, np.inf]
AGE_GROUPS = ("0-3", "4-11", "12-15", "16-17", "18+")

COLUMNS = ["indicator", "scope", "institution", "period", "care_type", "category", "numerator",
           "denominator", "value", "ci_low", "ci_high", "missing"]


def context_label(item: str, lang: str = "nl") -> str:
    """Dutch or English label of a context item."""
    _, _, nl, en = CONTEXT_ITEMS[item]
    return en if lang == "en" else nl


def age_group(start_date: pd.Series, birth_year: pd.Series) -> pd.Series:
    """Age group at the start of a trajectory (age approximated as start year minus birth year)."""
    age = start_date.dt.year - birth_year.astype("float64")
    return pd.cut(age, AGE_BINS, labels=list(AGE_GROUPS)).astype(pd.CategoricalDtype(list(AGE_GROUPS)))


def _keys(t: pd.DataFrame, anchor: str, granularity: str) -> pd.DataFrame:
    date = t["start_date"] if anchor == "start" else t["end_date"]
    return pd.DataFrame(
        {
            "institution": t["institution"].astype("string"),
            "period": period_of(date, granularity),
            "care_type": t["care_type"].astype("string"),
        },
        index=t.index,
    )


def _both_scopes(frame: pd.DataFrame, agg) -> pd.DataFrame:
    """Apply ``agg(frame, by)`` per institution and nationally; stack with a ``scope`` column."""
    inst = agg(frame, ["institution", "period", "care_type"]).assign(scope="institution")
    nat = agg(frame, ["period", "care_type"]).assign(scope="national", institution="")
    return pd.concat([inst, nat], ignore_index=True)


def _distribution(keys: pd.DataFrame, values: pd.Series, categories) -> pd.DataFrame:
    frame = keys.assign(category=pd.Categorical(values.astype("object"), categories=list(categories)))

    def agg(f, by):
        counts = f.dropna(subset=["category"]).groupby(by + ["category"], observed=False).size().rename("numerator")
        missing = f["category"].isna().groupby([f[b] for b in by]).sum().rename("missing")
        counts = counts.reset_index()
        totals = counts.groupby(by)["numerator"].transform("sum")
        counts["denominator"] = totals
        counts = counts.merge(missing.reset_index(), on=by, how="left")
        return counts.loc[counts["denominator"] > 0]

    out = _both_scopes(frame, agg)
    out["category"] = out["category"].astype("string")
    out["value"] = out["numerator"] / out["denominator"]
    out["ci_low"], out["ci_high"] = np.nan, np.nan
    return out


def _mean(keys: pd.DataFrame, values: pd.Series, conf: float) -> pd.DataFrame:
    frame = keys.assign(x=values.astype("float64"))

    def agg(f, by):
        g = f.groupby(by, observed=True)["x"]
        out = pd.DataFrame({"value": g.mean(), "sd": g.std(ddof=1), "denominator": g.count(), "n_all": g.size()})
        return out.reset_index()

    out = _both_scopes(frame, agg)
    out = out.loc[out["denominator"] > 0].copy()
    out["missing"] = out["n_all"] - out["denominator"]
    out["numerator"] = np.nan
    out["category"] = ""
    low, high = stats.mean_ci(out["value"], out["sd"], out["denominator"], conf=conf)
    out["ci_low"], out["ci_high"] = low, high
    return out.drop(columns=["sd", "n_all"])


def _share(keys: pd.DataFrame, flags: pd.Series, settings: Settings) -> pd.DataFrame:
    frame = keys.assign(x=flags.astype("Float64"))

    def agg(f, by):
        g = f.groupby(by, observed=True)["x"]
        return pd.DataFrame({"numerator": g.sum(), "denominator": g.count(), "n_all": g.size()}).reset_index()

    out = _both_scopes(frame, agg)
    out = out.loc[out["denominator"] > 0].copy()
    out["numerator"] = out["numerator"].astype("float64")
    out["missing"] = out["n_all"] - out["denominator"]
    out["category"] = ""
    out["value"] = out["numerator"] / out["denominator"]
    out["ci_low"], out["ci_high"] = stats.proportion_ci(
        out["numerator"], out["denominator"], conf=settings.conf, method=settings.ci_method
    )
    return out.drop(columns=["n_all"])


def _median(keys: pd.DataFrame, days: pd.Series) -> pd.DataFrame:
    frame = keys.assign(x=days.astype("float64"))

    def agg(f, by):
        g = f.groupby(by, observed=True)["x"]
        out = pd.DataFrame({
            "value": g.median(), "ci_low": g.quantile(0.25), "ci_high": g.quantile(0.75),
            "denominator": g.count(), "n_all": g.size(),
        })
        return out.reset_index()

    out = _both_scopes(frame, agg)
    out = out.loc[out["denominator"] > 0].copy()
    out["missing"] = out["n_all"] - out["denominator"]
    out["numerator"] = np.nan
    out["category"] = ""
    return out.drop(columns=["n_all"])


def compute_context(data: Dataset, granularity: str = "year", settings: Settings | None = None) -> pd.DataFrame:
    """Every context item for every institution, period and care type (and nationally).

    Parameters
    ----------
    data : Dataset
    granularity : {"year", "half_year"}
    settings : Settings, optional
        ``conf``, ``ci_method`` and the disclosure thresholds are used.

    Returns
    -------
    DataFrame
        The tidy layout of :func:`outcome_analysis.indicators.compute`: ``indicator`` (a context id
        of :data:`CONTEXT_ITEMS`), ``scope``, ``institution``, ``period``, ``care_type``,
        ``category``, ``numerator``, ``denominator``, ``value``, ``ci_low``, ``ci_high``,
        ``missing``, ``suppressed`` (plus the columns :func:`disclosure.suppress` adds).

        - distributions (complexity, perspective, age group, kwesties): one row per category,
          ``numerator`` the count, ``denominator`` the trajectories with the item known (for
          kwesties: the ended trajectories; one trajectory may name several kwesties, so the
          shares need not add up to 1);
        - ``ctx_uithuisplaatsing``: a share with a Wilson interval;
        - working alliance and chain cooperation: the mean with a t-interval (``numerator`` NaN);
        - ``ctx_wachttijd``: the median in days, with ``ci_low``/``ci_high`` holding the first and
          third quartile (not a confidence interval; the report says so).

    Notes
    -----
    Missing items are counted in ``missing``, never imputed. Distribution counts go through
    :func:`disclosure.suppress` as counts (with complementary suppression within each
    institution-period-care type); means, shares and medians as shares (denominator below the
    threshold hidden).
    """
    settings = DEFAULT if settings is None else settings
    t = data.trajectories
    started = _keys(t, "start", granularity)
    ended_mask = t["end_date"].notna()
    ended = _keys(t.loc[ended_mask], "end", granularity)

    parts = []
    parts.append(_distribution(started, t["complexity"], t["complexity"].cat.categories).assign(indicator="ctx_complexiteit"))
    parts.append(_distribution(started, t["perspective"], t["perspective"].cat.categories).assign(indicator="ctx_perspectief"))
    parts.append(_distribution(started, age_group(t["start_date"], t["birth_year"]), AGE_GROUPS).assign(indicator="ctx_leeftijd"))
    parts.append(_share(started, t["out_of_home"], settings).assign(indicator="ctx_uithuisplaatsing"))

    wait = np.where(
        t["care_type"].astype("string") == "jeugdhulp",
        (t["start_date"] - t["registration_date"]).dt.days,
        (t["first_contact_date"] - t["start_date"]).dt.days,
    )
    parts.append(_median(started, pd.Series(wait, index=t.index)).assign(indicator="ctx_wachttijd"))

    te = t.loc[ended_mask]
    parts.append(_mean(ended, te["working_alliance"], settings.conf).assign(indicator="ctx_samenwerkingsrelatie"))
    parts.append(_mean(ended, te["chain_cooperation"], settings.conf).assign(indicator="ctx_ketensamenwerking"))
    parts.append(_kwesties(ended, te["issues"]))

    shares = pd.concat([p for p in parts if p["category"].eq("").all()], ignore_index=True)
    counts = pd.concat([p for p in parts if not p["category"].eq("").all()], ignore_index=True)
    shares = disclosure.suppress(shares[COLUMNS], settings, kind="share")
    counts = disclosure.suppress(
        counts[COLUMNS], settings, kind="count", group=["indicator", "scope", "institution", "period", "care_type"]
    )
    out = pd.concat([shares, counts], ignore_index=True)
    return out.sort_values(["indicator", "scope", "institution", "period", "care_type", "category"]).reset_index(drop=True)


def _kwesties(keys: pd.DataFrame, issues: pd.Series) -> pd.DataFrame:
    """Counts of trajectories naming each kwestie code, among the ended trajectories."""
    from .schema import ISSUE_CODES

    text = issues.fillna("").astype("string").str.lower()
    frame = keys.copy()
    for code in ISSUE_CODES:
        frame[code] = text.str.contains(rf"(?:^|;)\s*{code}\s*(?:;|$)", regex=True).astype("int64")

    def agg(f, by):
        g = f.groupby(by, observed=True)
        counts = g[list(ISSUE_CODES)].sum()
        counts["denominator"] = g.size()
        long = counts.reset_index().melt(id_vars=by + ["denominator"], var_name="category", value_name="numerator")
        return long

    out = _both_scopes(frame, agg)
    out["value"] = out["numerator"] / out["denominator"]
    out["ci_low"], out["ci_high"] = np.nan, np.nan
    out["missing"] = 0
    out["indicator"] = "ctx_kwesties"
    return out
