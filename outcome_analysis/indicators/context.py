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

from collections.abc import Mapping

import numpy as np
import pandas as pd

from outcome_analysis.indicators.suppression import resuppress, row_kinds
from outcome_analysis.statistics import disclosure, stats
from outcome_analysis.contract.dataset import Dataset
from outcome_analysis.contract.periods import period_of
from outcome_analysis.settings import DEFAULT, Settings

#: the registry's context entries computed here (labels and definitions come from the registry).
CONTEXT_IDS = ("ctx_doelgroep", "ctx_wachttijd", "ctx_werkrelatie", "ctx_ketensamenwerking", "ctx_kwesties")

AGE_BINS = [-np.inf, 3, 11, 15, 17, np.inf]
AGE_GROUPS = ("0-3", "4-11", "12-15", "16-17", "18+")

COLUMNS = ["indicator", "scope", "institution", "period", "care_type", "category", "numerator",
           "denominator", "value", "ci_low", "ci_high", "missing"]


def age_group(start_date: pd.Series, birth_year: pd.Series) -> pd.Series:
    """Age group at the start of a trajectory (age approximated as start year minus birth year)."""
    age = start_date.dt.year - birth_year.astype("float64")
    return pd.cut(age, AGE_BINS, labels=list(AGE_GROUPS)).astype(pd.CategoricalDtype(list(AGE_GROUPS)))


def _as_category(values: pd.Series) -> pd.Categorical:
    """Text keys as a Categorical (sorted categories): grouping on its integer codes, not on strings.
    Per-value work (``str``) happens on the distinct values only."""
    codes, uniques = pd.factorize(values, sort=True)
    return pd.Categorical.from_codes(codes, categories=pd.Index(uniques).astype("string"))


def _period_category(dates: pd.Series, granularity: str) -> pd.Categorical:
    """:func:`period_of` as a Categorical, labels built for the distinct days only."""
    days = dates.to_numpy().astype("datetime64[D]")
    uniq, inv = np.unique(days, return_inverse=True)  # NaT sorts last
    labels = period_of(pd.Series(uniq.astype("datetime64[ns]")), granularity)
    codes, cats = pd.factorize(labels, sort=True)
    return pd.Categorical.from_codes(codes[inv], categories=pd.Index(cats).astype("string"))


def _keys(t: pd.DataFrame, anchor: str, granularity: str) -> pd.DataFrame:
    date = t["start_date"] if anchor == "start" else t["end_date"]
    return pd.DataFrame(
        {
            "institution": _as_category(t["institution"]),
            "period": _period_category(date, granularity),
            "care_type": _as_category(t["care_type"].astype("string")),
        },
        index=t.index,
    )


_KEY_COLUMNS = ("institution", "period", "care_type")


def _both_scopes(frame: pd.DataFrame, agg) -> pd.DataFrame:
    """Apply ``agg(frame, by)`` per institution and nationally; stack with a ``scope`` column.

    The keys are Categoricals (fast grouping); they come out as ``string`` columns, as before.
    """
    inst = agg(frame, ["institution", "period", "care_type"]).assign(scope="institution")
    nat = agg(frame, ["period", "care_type"]).assign(scope="national", institution="")
    for part in (inst, nat):
        for col in _KEY_COLUMNS:
            part[col] = part[col].astype("string")
    return pd.concat([inst, nat], ignore_index=True)


def _distribution(keys: pd.DataFrame, values: pd.Series, categories, family: str) -> pd.DataFrame:
    labels = [f"{family}:{c}" for c in categories]
    codes = pd.Categorical(values.astype("object"), categories=list(categories)).codes
    frame = keys.assign(category=pd.Categorical.from_codes(codes, categories=labels))

    def agg(f, by):
        counts = f.dropna(subset=["category"]).groupby(by + ["category"], observed=False).size().rename("numerator")
        missing = f["category"].isna().groupby([f[b] for b in by]).sum().rename("missing")
        counts = counts.reset_index()
        totals = counts.groupby(by)["numerator"].transform("sum")
        counts["denominator"] = totals
        counts = counts.loc[counts["denominator"] > 0]  # before the merge: only groups that exist
        return counts.merge(missing.reset_index(), on=by, how="left")

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


def _quantiles(keys: pd.DataFrame, days: pd.Series) -> pd.DataFrame:
    """First quartile, median and third quartile as rows ``quantile:p25/p50/p75``."""
    frame = keys.assign(x=days.astype("float64"))

    def agg(f, by):
        g = f.groupby(by, observed=True)["x"]
        parts = []
        for label, q in (("p25", 0.25), ("p50", 0.5), ("p75", 0.75)):
            part = pd.DataFrame({"value": g.quantile(q), "denominator": g.count(), "n_all": g.size()})
            parts.append(part.reset_index().assign(category=f"quantile:{label}"))
        return pd.concat(parts, ignore_index=True)

    out = _both_scopes(frame, agg)
    out = out.loc[out["denominator"] > 0].copy()
    out["missing"] = out["n_all"] - out["denominator"]
    out["numerator"] = np.nan
    out["ci_low"], out["ci_high"] = np.nan, np.nan
    return out.drop(columns=["n_all"])


def compute_context(data: Dataset, granularity: str = "year", settings: Settings | None = None) -> pd.DataFrame:
    """Every context item of the registry for every institution, period and care type (and nationally).

    Parameters
    ----------
    data : Dataset
    granularity : {"year", "half_year"}
    settings : Settings, optional
        ``conf``, ``ci_method`` and the disclosure thresholds are used.

    Returns
    -------
    DataFrame
        The tidy layout of :func:`outcome_analysis.indicators.compute`: ``indicator`` (one of
        :data:`CONTEXT_IDS`), ``scope``, ``institution`` (``""`` for national rows), ``period``,
        ``care_type``, ``category`` (``""`` for the headline, ``family:code`` for breakdowns),
        ``numerator``, ``denominator``, ``value``, ``ci_low``, ``ci_high``, ``missing``, and the
        columns :func:`disclosure.suppress` adds (``suppressed``, ``suppression_reason``,
        ``shown_numerator``, ``shown_denominator``).

        - ``ctx_doelgroep`` (trajectories that started in the period): headline share placed out of
          home (Wilson interval); breakdowns ``complexity:*``, ``perspective:*``, ``age_group:*``
          (counts among the trajectories with the item known);
        - ``ctx_wachttijd`` (started): headline mean waiting time in days with a t-interval, and
          rows ``quantile:p25``, ``quantile:p50``, ``quantile:p75`` (``value`` = the quantile);
          jeugdhulp start − registration, JB/JR first contact − start;
        - ``ctx_werkrelatie``, ``ctx_ketensamenwerking`` (ended): mean score 1–5 with a t-interval;
        - ``ctx_kwesties`` (ended): rows ``issue:<code>``, the number of ended trajectories naming
          the kwestie, over all ended trajectories (an empty ``issues`` field means none were
          named; one trajectory may name several, so shares need not add up to 1).

    Notes
    -----
    Missing items are counted in ``missing``, never imputed. Headline shares and means, and the
    waiting-time quantiles, are suppressed when their denominator is below
    ``settings.min_denominator``; distribution counts (target group, kwesties) go through
    :func:`disclosure.suppress` as counts with complementary suppression within each indicator,
    institution, period, care type and breakdown family.
    """
    settings = DEFAULT if settings is None else settings
    t = data.trajectories
    started = _keys(t, "start", granularity)
    ended_mask = t["end_date"].notna()
    ended = _keys(t.loc[ended_mask], "end", granularity)
    te = t.loc[ended_mask]

    wait = np.where(
        t["care_type"].astype("string") == "jeugdhulp",
        (t["start_date"] - t["registration_date"]).dt.days,
        (t["first_contact_date"] - t["start_date"]).dt.days,
    )
    wait = pd.Series(wait, index=t.index)

    shares = [
        _share(started, t["out_of_home"], settings).assign(indicator="ctx_doelgroep"),
        _mean(started, wait, settings.conf).assign(indicator="ctx_wachttijd"),
        _quantiles(started, wait).assign(indicator="ctx_wachttijd"),
        _mean(ended, te["working_alliance"], settings.conf).assign(indicator="ctx_werkrelatie"),
        _mean(ended, te["chain_cooperation"], settings.conf).assign(indicator="ctx_ketensamenwerking"),
    ]
    counts = [
        _distribution(started, t["complexity"], t["complexity"].cat.categories, "complexity"),
        _distribution(started, t["perspective"], t["perspective"].cat.categories, "perspective"),
        _distribution(started, age_group(t["start_date"], t["birth_year"]), AGE_GROUPS, "age_group"),
    ]
    counts = [c.assign(indicator="ctx_doelgroep") for c in counts] + [_kwesties(ended, te["issues"])]

    shares = pd.concat(shares, ignore_index=True)[COLUMNS]
    is_share = row_kinds(shares["indicator"], shares["category"]) == "share"  # the others: means and quartiles
    shares = pd.concat([disclosure.suppress(shares[is_share], settings, kind="share"),
                        disclosure.suppress(shares[~is_share], settings, kind="mean")], ignore_index=True)
    counts = pd.concat(counts, ignore_index=True)[COLUMNS]
    counts["family"] = counts["category"].str.split(":").str[0]
    counts = disclosure.suppress(
        counts, settings, kind="count", group=["indicator", "scope", "institution", "period", "care_type", "family"]
    ).drop(columns="family")
    out = pd.concat([shares, counts], ignore_index=True)
    return out.sort_values(["indicator", "scope", "institution", "period", "care_type", "category"]).reset_index(drop=True)


def protect(table: pd.DataFrame, settings: Settings | None = None, *,
            regions: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The context table with the secondary rules of the indicator tables as well.

    :func:`compute_context` marks each figure by the primary rule and protects the cells of a
    distribution among themselves. But the institution reports print each institution's context
    beside the pooled (national) one, and a gemeente report prints a gemeente's beside its
    jeugdregio's: the pooled share or mean (numerator, or records x mean) minus the visible
    institutions' gives a single hidden one back, as for an indicator. So the shares, means and
    distribution cells go through :func:`outcome_analysis.indicators.suppression.resuppress` (the
    indicator tables' rules: across the institutions and their pooled figure, between a year and
    its halves, and with ``regions`` across the gemeenten of a jeugdregio). The waiting-time
    quartiles keep their primary marks: a quartile cannot be taken from a difference of totals.

    Parameters
    ----------
    table : DataFrame
        :func:`compute_context` output (any thresholds). Not modified.
    settings : Settings, optional
        The thresholds in force; default ``settings.DEFAULT``.
    regions : mapping of unit to region, optional
        As :func:`~outcome_analysis.indicators.suppression.resuppress` (gemeente stores).

    Returns
    -------
    DataFrame
        A copy of ``table``: same rows and order, ``suppressed`` as or more often true.
    """
    settings = DEFAULT if settings is None else settings
    out = table.copy()
    rest = ~out["category"].astype(str).str.startswith("quantile:").to_numpy()
    if not rest.any():
        return out
    part = out[rest].assign(window_months=pd.array([pd.NA] * int(rest.sum()), dtype="Int64"))
    # the marks already there (e.g. the distribution rule of compute_context) count as hidden before
    # the secondary rules run
    marked = resuppress(part, settings, regions=regions, hidden=part["suppressed"].to_numpy(bool))
    out.loc[rest, "suppressed"] = marked["suppressed"].to_numpy(bool)
    return out


def _kwesties(keys: pd.DataFrame, issues: pd.Series) -> pd.DataFrame:
    """Counts of trajectories naming each kwestie code, among the ended trajectories."""
    from outcome_analysis.contract.schema import ISSUE_CODES

    # the regular expressions run on the distinct texts only, then one gather per row
    codes, uniques = pd.factorize(issues.fillna("").astype("string"))
    text = pd.Series(pd.Index(uniques).astype("string"), dtype="string").str.lower()
    frame = keys.copy()
    for code in ISSUE_CODES:
        hit = text.str.contains(rf"(?:^|;)\s*{code}\s*(?:;|$)", regex=True).astype("int64").to_numpy()
        frame[code] = np.r_[hit, 0][codes] if len(hit) else np.zeros(len(frame), dtype=np.int64)

    def agg(f, by):
        g = f.groupby(by, observed=True)
        counts = g[list(ISSUE_CODES)].sum()
        counts["denominator"] = g.size()
        long = counts.reset_index().melt(id_vars=by + ["denominator"], var_name="category", value_name="numerator")
        long["category"] = "issue:" + long["category"]
        return long

    out = _both_scopes(frame, agg)
    out["value"] = out["numerator"] / out["denominator"]
    out["ci_low"], out["ci_high"] = np.nan, np.nan
    out["missing"] = 0
    out["indicator"] = "ctx_kwesties"
    return out
