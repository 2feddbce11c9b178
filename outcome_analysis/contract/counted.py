"""What was counted where: per trajectory and indicator, whether it was counted, in which period, with
which outcome, and why not where it was left out.

This is for a data supplier's own check of its registration ("why is trajectory T123 not in our
uitval figure?"). It is **record-level**: it is made only on request, by the validator's
``python -m outcome_analysis validate PATH --records OUT.xlsx``, and written only to the path the
user names. Nothing else in the package calls this module (no report, no batch, no results store):
record-level data never leaves the supplier's own hands through the workbench.

How the counting units map back to trajectories (the rules of :mod:`outcome_analysis.indicators`):

- **trajectory** units are the trajectory itself;
- **answer** units (experience) are aggregated per trajectory: counted when at least one answer of
  a youth or parent with the item filled in belongs to it; ``outcome`` is the share 'geholpen';
- **episode** units (verloop, pi07, pi09) are chains of a youth's records of one family; the episode
  is counted once, with its last-ending record (the institution of the episode). Its other records
  are "not the last record of the episode (counted with trajectory X)";
- **youth** units (herhaald beroep, geen nieuwe start, pi05, pi08) are a youth's last episode that
  ended at an institution in a period; the episode's last-ending record is the counted one, earlier
  episodes of that youth there in that period are "counted with the last episode (trajectory X)".

The episodes are rebuilt here with :func:`outcome_analysis.episodes.chain` on the same family of
records as the indicator chains (:data:`EPISODE_FAMILY`); every counting unit of
:func:`outcome_analysis.indicators.records` is matched to one of them, and a unit that cannot be
matched is an error (never a silent guess).
"""
from __future__ import annotations

import string
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from outcome_analysis import atomic, indicators as indicators_mod, texts
from outcome_analysis.indicators import episodes as episodes_mod, registry
from outcome_analysis.presentation import report
from outcome_analysis.statistics import stats
from .dataset import Dataset
from outcome_analysis.errors import OutcomeAnalysisError
from .periods import check_granularity, period_of
from outcome_analysis.settings import DEFAULT, Settings

#: columns of :func:`counted_records`.
COLUMNS = (
    "trajectory_id", "client_id", "institution", "care_type", "indicator", "indicator_name", "unit",
    "period", "counted", "outcome", "category", "reason", "explanation", "counted_with",
)

#: the family of records each episode or youth indicator chains into episodes (as
#: ``indicators`` builds them: JB+JR together, jeugdhulp apart; pi07/pi08 JB alone, pi09 JR alone).
EPISODE_FAMILY = {
    "jbjr_verloop": "jbjr",
    "jbjr_herhaald_beroep": "jbjr",
    "jh_geen_nieuwe_start": "jeugdhulp",
    "pi05_geen_nieuw_beroep": "jeugdhulp",
    "pi07_reden_beeindiging_jb": "jb",
    "pi08_geen_nieuwe_maatregel": "jb",
    "pi09_reden_beeindiging_jr": "jr",
}
_FAMILY_CARE_TYPES = {"jeugdhulp": ("jeugdhulp",), "jbjr": ("jb", "jr"), "jb": ("jb",), "jr": ("jr",)}

_ROM = ("rom_instrument", "rom_start", "rom_end")
_THREAT = ("threat_start", "threat_end")
_RISK = ("risk_start", "risk_end")
#: the trajectory columns an indicator's outcome is read from, per care type ("*": every care type).
ITEMS = {
    "jbjr_verloop": {"*": ("end_reason",)},
    "jb_afname_ontwikkelingsbedreiging": {"jb": _THREAT},
    "jr_afname_criminogene_factoren": {"jr": _RISK},
    "jb_acceptatie_hulp": {"jb": ("help_accepted",)},
    "jh_uitval": {"*": ("end_reason",)},
    "jh_zonder_hulp_verder": {"*": ("without_help",)},
    "jh_afname_problematiek": {"jeugdhulp": _ROM},
    "pi01_doelrealisatie": {"*": ("goals_realised",)},
    "pi03_reden_beeindiging_hulp": {"*": ("end_reason",)},
    "pi04_vermindering_ernst": {"jeugdhulp": _ROM, "jb": _THREAT, "jr": _RISK},
    "pi07_reden_beeindiging_jb": {"*": ("end_reason",)},
    "pi09_reden_beeindiging_jr": {"*": ("end_reason",)},
    "pi10_geen_recidive": {"*": ("recidivism",)},
}
_END_REASON_SHARES = frozenset({"jbjr_verloop", "jh_uitval", "pi03_reden_beeindiging_hulp", "pi07_reden_beeindiging_jb"})

#: reason code -> (Dutch, English) text; ``{placeholders}`` are filled per row (``data/texts/counted.yaml``).
REASONS = {code: tuple(texts.for_lang("counted", lang)["reasons"][code] for lang in texts.LANGS)
           for code in texts.for_lang("counted", "nl")["reasons"]}

#: counting unit -> (Dutch, English) label.
UNIT_LABELS = {unit: tuple(texts.for_lang("counted", lang)["units"][unit] for lang in texts.LANGS)
               for unit in texts.for_lang("counted", "nl")["units"]}

#: Dutch and English headers of the xlsx, and what each column means (the "Toelichting" sheet):
#: column -> (Dutch header, English header, Dutch meaning, English meaning).
HEADERS = {column: tuple(texts.for_lang("counted", lang)[part][column]
                         for part in ("headers", "meanings") for lang in texts.LANGS)
           for column in texts.for_lang("counted", "nl")["headers"]}
_XLSX_COLUMNS = tuple(HEADERS)
_EXCEL_MAX_ROWS = 1_048_575


class CountedRecordsError(OutcomeAnalysisError, ValueError):
    """Data for which the counting cannot be traced back to trajectories (e.g. repeated trajectory ids)."""


# ------------------------------------------------------------------------------------------------
# counted_records
# ------------------------------------------------------------------------------------------------


def counted_records(data: Dataset, settings: Settings | None = None, granularity: str = "year", *,
                    lang: str = "nl", indicators: Sequence[str] | None = None) -> pd.DataFrame:
    """Per trajectory and indicator that concerns it: counted or not, where, and why not.

    Parameters
    ----------
    data : Dataset
        A loaded delivery (unique ``trajectory_id``).
    settings : Settings, optional
        Windows, regular ends, GAS and RCI settings, as for the reports; default ``settings.DEFAULT``.
    granularity : {"year", "half_year"}
        Period labels.
    lang : {"nl", "en"}
        Language of ``indicator_name``, ``unit``, ``category`` and ``explanation``.
    indicators : sequence of str, optional
        Registry ids; default every indicator :mod:`~outcome_analysis.indicators` computes.

    Returns
    -------
    DataFrame
        One row per trajectory × indicator whose care types include the trajectory's care type, in
        delivery order, then registry order; columns :data:`COLUMNS`:

        - ``trajectory_id``, ``client_id``, ``institution``, ``care_type``: of the trajectory;
        - ``indicator``, ``indicator_name`` (registry), ``unit`` (what the indicator counts);
        - ``period``: where it was counted (for a record counted with another trajectory: that
          unit's period; otherwise the period of its own end; missing while running);
        - ``counted`` (bool); ``outcome`` (float: 1/0 for shares, the value for means, the share
          'helped' for experience answers; NaN when not counted or for distributions);
        - ``category``: the cell of a pure distribution (pi06, pi09), as a label;
        - ``reason``: a code of :data:`REASONS` (``counted`` / ``counted_answers`` when counted);
          ``explanation`` its text in ``lang``; ``counted_with``: the trajectory the episode or
          youth was counted with (or is judged by), when that is another trajectory.

    Raises
    ------
    CountedRecordsError
        When trajectory ids repeat, or a counting unit cannot be traced to its trajectories.

    Examples
    --------
    A vOTS followed the next day by an OTS is one episode, counted once with its last record:

    >>> from outcome_analysis import schema
    >>> t = schema.frame("trajectories", [
    ...     dict(trajectory_id="T1", client_id="C1", institution="GI", care_type="jb", care_form="vots",
    ...          start_date="2023-01-01", end_date="2023-03-01", end_reason="volgens_plan", birth_year=2010),
    ...     dict(trajectory_id="T2", client_id="C1", institution="GI", care_type="jb", care_form="ots",
    ...          start_date="2023-03-02", end_date="2023-12-31", end_reason="niet_verlengd", birth_year=2010)])
    >>> rows = counted_records(Dataset(t, reference_date="2024-12-31"), indicators=["pi07_reden_beeindiging_jb"])
    >>> rows[["trajectory_id", "period", "counted", "outcome", "counted_with"]].values.tolist()
    [['T1', '2023', False, nan, 'T2'], ['T2', '2023', True, 1.0, None]]
    >>> rows["explanation"].iloc[0]
    'niet het laatste traject van de episode; de episode is geteld met traject T2'
    """
    settings = settings or DEFAULT
    check_granularity(granularity)
    li = _lang_index(lang)
    wanted = list(indicators) if indicators is not None else list(indicators_mod.COMPUTABLE)
    t = data.trajectories.reset_index(drop=True)
    ids = t["trajectory_id"].astype("object")
    if ids.isna().any() or not ids.is_unique:
        raise CountedRecordsError("trajectory ids must be present and unique to trace what was counted")
    ctx = _Context(data, t, pd.Index(ids.to_numpy()), settings, granularity)
    frames = [_one_indicator(ctx, registry.get(ind), li, k) for k, ind in enumerate(wanted)]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="bool" if c == "counted" else "float64" if c == "outcome" else "object")
                             for c in COLUMNS})
    out = pd.concat(frames, ignore_index=True)
    for c in ("period", "category", "counted_with"):  # text that may be missing: object with None
        out[c] = out[c].astype("object").where(out[c].notna(), None)
    order = np.lexsort((out.pop("_indicator_order").to_numpy(), out.pop("_pos").to_numpy()))
    return out.take(order).reset_index(drop=True)[list(COLUMNS)]


def _lang_index(lang: str) -> int:
    """The position of ``lang`` in :data:`outcome_analysis.texts.LANGS`; :class:`CountedRecordsError`
    (a ``ValueError``) for an unknown language."""
    return texts.LANGS.index(texts.check_lang(lang, CountedRecordsError))


class _Context:
    """Per-trajectory arrays shared by all indicators of one call."""

    def __init__(self, data: Dataset, t: pd.DataFrame, index: pd.Index, settings: Settings, granularity: str):
        self.data, self.t, self.index, self.settings, self.granularity = data, t, index, settings, granularity
        self.n = len(t)
        self.ids = index.to_numpy(dtype=object)
        self.ended = t["end_date"].notna().to_numpy()
        self.own_period = _object(period_of(t["end_date"], granularity))
        self.client_code, client_uniques = pd.factorize(t["client_id"])
        self.client_index = pd.Index(client_uniques)
        self.inst_code = pd.factorize(t["institution"])[0]
        self.end_day = episodes_mod.day_numbers(t["end_date"])
        self.care = t["care_type"].astype("object").to_numpy()
        self._families: dict[str, np.ndarray] = {}

    def positions(self, trajectory_ids) -> np.ndarray:
        pos = self.index.get_indexer(pd.Index(np.asarray(trajectory_ids, dtype=object)))
        if (pos < 0).any():
            raise CountedRecordsError("a counting unit names a trajectory that is not in the data")
        return pos

    def family(self, family: str) -> np.ndarray:
        """Per trajectory: the position of the last-ending record of its episode, the records of
        ``family`` chained on their own (-1 for trajectories outside the family)."""
        if family not in self._families:
            rows = np.flatnonzero(np.isin(self.care, _FAMILY_CARE_TYPES[family]))
            last = np.full(self.n, -1, dtype=np.int64)
            if len(rows):
                chained = episodes_mod.chain(self.t.iloc[rows], self.settings)
                last[rows] = rows[chained.episodes["record"].to_numpy()[chained.record_episode.to_numpy()]]
            self._families[family] = last
        return self._families[family]


def _object(series: pd.Series) -> np.ndarray:
    """A column as an object array with None for missing."""
    return series.astype("object").where(series.notna(), None).to_numpy(dtype=object)


def _main_rows(entry: registry.Entry, r: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """The unit rows that decide whether a unit counted: the headline rows, or, for a pure
    distribution, the rows of its first distribution family (and that family's name)."""
    category = r["category"].astype("object")
    if entry.headline is not None:
        return r[(category == "").to_numpy()], None
    family = next(f for f, kind in entry.breakdowns.items() if kind == "distribution")
    return r[category.str.startswith(f"{family}:").to_numpy()], family


def _one_indicator(ctx: _Context, entry: registry.Entry, li: int, order: int) -> pd.DataFrame:
    n = ctx.n
    concerned = np.isin(ctx.care, list(entry.care_types))
    if not concerned.any():
        return pd.DataFrame()
    r = indicators_mod.records(ctx.data, entry.id, granularity=ctx.granularity, settings=ctx.settings)
    rows, distribution = _main_rows(entry, r)

    counted = np.zeros(n, dtype=bool)
    is_unit = np.zeros(n, dtype=bool)
    outcome = np.full(n, np.nan)
    category = np.full(n, None, dtype=object)
    period = ctx.own_period.copy()
    reason = np.full(n, None, dtype=object)
    other = np.full(n, None, dtype=object)
    items = np.full(n, None, dtype=object)
    answers = np.zeros(n, dtype=np.int64)
    helped = np.zeros(n, dtype=np.int64)

    if entry.unit == "answer":
        tid = rows["unit_id"].astype("object").str.rsplit("#", n=1).str[0]
        pos = ctx.positions(tid)
        value = rows["outcome"].to_numpy(dtype=float)
        known = ~np.isnan(value)
        answers = np.bincount(pos[known], minlength=n)
        helped = np.bincount(pos[known], weights=value[known], minlength=n).round().astype(np.int64)
        is_unit[pos] = True
        period[pos] = _object(rows["period"])
        counted = answers > 0
        outcome = np.where(counted, helped / np.maximum(answers, 1), np.nan)
        reason[counted] = "counted_answers"
    else:
        pos = _unit_positions(ctx, entry, rows)
        value = rows["outcome"].to_numpy(dtype=float)
        unit_excluded = rows["excluded_window"].to_numpy(dtype=bool)
        is_unit[pos] = True
        period[pos] = _object(rows["period"])
        if distribution is None:
            ok = ~np.isnan(value) & ~unit_excluded
            outcome[pos] = np.where(ok, value, np.nan)
        else:
            cat = rows["category"].astype("object").to_numpy()
            ok = (cat != f"{distribution}:") & ~unit_excluded
            present = pd.Series(cat[ok], dtype="object")
            lookup = {c: registry.category_label(c, texts.LANGS[li]) for c in present.unique()}  # few cells
            category[pos[ok]] = present.map(lookup).to_numpy(dtype=object)
        counted[pos[ok]] = True
        reason[pos[ok]] = "counted"
        reason[pos[unit_excluded]] = "window_not_passed"

    # the counted-with mapping for the records of an episode or youth unit
    if entry.unit in ("episode", "youth"):
        _episode_members(ctx, entry, is_unit, counted, period, reason, other)

    todo = concerned & pd.isna(reason)
    reason[todo & ~ctx.ended] = "not_ended"
    todo &= ctx.ended
    if entry.unit == "answer":
        _answer_reasons(ctx, todo, is_unit, reason, items)
    elif todo.any():
        _missing_reasons(ctx, entry, todo, is_unit, reason, items)

    keep = np.flatnonzero(concerned)
    window = entry.window_months(ctx.settings)
    text = _explanations(reason[keep], other[keep], items[keep], answers[keep], helped[keep],
                         ctx.t["end_date"].take(keep), window, li)
    t = ctx.t
    return pd.DataFrame({
        "trajectory_id": ctx.ids[keep],
        "client_id": _object(t["client_id"].take(keep)),
        "institution": _object(t["institution"].take(keep)),
        "care_type": _object(t["care_type"].take(keep)),
        "indicator": entry.id,
        "indicator_name": entry.label(texts.LANGS[li]),
        "unit": UNIT_LABELS[entry.unit][li],
        "period": period[keep],
        "counted": counted[keep],
        "outcome": outcome[keep],
        "category": category[keep],
        "reason": reason[keep],
        "explanation": text,
        "counted_with": other[keep],
        "_pos": keep,
        "_indicator_order": order,
    })


def _unit_positions(ctx: _Context, entry: registry.Entry, rows: pd.DataFrame) -> np.ndarray:
    """The position of the counted record of every unit row (its last-ending record for episodes
    and youths), checked against the unit's youth and end date."""
    if entry.unit == "trajectory":
        return ctx.positions(rows["unit_id"].astype("object"))
    last = ctx.family(EPISODE_FAMILY[entry.id])
    if entry.unit == "episode":  # unit_id: the episode's first record
        pos = last[ctx.positions(rows["unit_id"].astype("object"))]
    else:  # youth: the episode of this youth that ended on the anchor date
        is_last = np.flatnonzero((last == np.arange(ctx.n)) & ctx.ended)
        keys = pd.MultiIndex.from_arrays([ctx.client_code[is_last], ctx.end_day[is_last]])
        wanted = pd.MultiIndex.from_arrays([ctx.client_index.get_indexer(rows["client_id"].astype("object")),
                                            episodes_mod.day_numbers(rows["anchor_date"])])
        hit = keys.get_indexer(wanted)
        if (hit < 0).any():
            raise CountedRecordsError(f"{entry.id}: a youth's counted episode is not among the episodes of its family")
        pos = is_last[hit]
    same = (pos >= 0) & ((ctx.client_code[pos] == ctx.client_index.get_indexer(rows["client_id"].astype("object")))
            & (ctx.end_day[pos] == episodes_mod.day_numbers(rows["anchor_date"])))
    if not same.all():
        raise CountedRecordsError(f"{entry.id}: counting units do not match the episodes rebuilt from the data")
    return pos


def _episode_members(ctx: _Context, entry, is_unit, counted, period, reason, other) -> None:
    """Reasons of the records of an episode or youth unit other than its counted record, and of
    the records of episodes that were not a unit (still running, not the youth's last, deceased)."""
    last = ctx.family(EPISODE_FAMILY[entry.id])
    member = (last >= 0) & (last != np.arange(ctx.n))
    last_safe = np.maximum(last, 0)
    ep_ended = ctx.ended[last_safe] & (last >= 0)
    # records of a unit's episode, other than its last record
    with_unit = member & is_unit[last_safe]
    period[with_unit] = period[last[with_unit]]
    other[with_unit] = ctx.ids[last[with_unit]]
    reason[with_unit] = np.where(counted[last[with_unit]], "not_last_record", "not_last_record_uncounted")
    # episodes still running: every ended record of it
    running = (last >= 0) & ~ep_ended & ctx.ended
    other[running] = ctx.ids[last[running]]
    reason[running] = "episode_running"
    # ended episodes that are no unit
    no_unit = (last >= 0) & ep_ended & ~is_unit[last_safe]
    if not no_unit.any():
        return
    if entry.unit == "youth":
        units = np.flatnonzero(is_unit)
        keys = pd.MultiIndex.from_arrays([ctx.client_code[units], ctx.inst_code[units], period[units]])
        wanted = np.flatnonzero(no_unit)
        lp = last[wanted]
        hit = keys.get_indexer(pd.MultiIndex.from_arrays([ctx.client_code[lp], ctx.inst_code[lp], ctx.own_period[lp]]))
        found = hit >= 0
        rows, target = wanted[found], units[hit[found]]
        other[rows] = ctx.ids[target]
        period[rows] = period[target]
        reason[rows] = "not_last_episode"
    elif entry.headline is not None:
        deceased = no_unit & (ctx.t["end_reason"].astype("object").to_numpy()[last_safe] == "overleden")
        last_deceased = deceased & ~member
        reason[last_deceased] = "deceased"
        rest = deceased & member
        other[rest] = ctx.ids[last[rest]]
        reason[rest] = "not_last_record_uncounted"


def _answer_reasons(ctx: _Context, todo, is_unit, reason, items) -> None:
    """Ended trajectories without a counted answer: no answers, only professionals, or 'helped' empty."""
    exp = ctx.data.experience
    where = ctx.index.get_indexer(pd.Index(exp["trajectory_id"].astype("object").to_numpy()))
    has = np.zeros(ctx.n, dtype=bool)
    has[where[where >= 0]] = True
    reason[todo & ~has] = "no_answers"
    reason[todo & has & ~is_unit] = "professional_only"  # a unit has answers of youths or parents
    missing = todo & is_unit  # its answers of youths and parents all lack 'helped'
    reason[missing] = "item_missing"
    items[missing] = "helped"


def _missing_reasons(ctx: _Context, entry, todo, is_unit, reason, items) -> None:
    """Why an ended trajectory's outcome is missing: the empty items, an unknown end reason, no
    (joint) goals, an unscorable ROM instrument."""
    t = ctx.t
    unset = todo.copy()
    if entry.id in _END_REASON_SHARES:
        unknown = unset & (t["end_reason"].isna() | (t["end_reason"].astype("object") == "onbekend")).to_numpy()
        reason[unknown] = "end_reason_unknown"
        unset &= ~unknown
    for care_type, columns in ITEMS.get(entry.id, {}).items():
        scope = unset & (np.ones(ctx.n, bool) if care_type == "*" else ctx.care == care_type)
        if not scope.any():
            continue
        names = pd.Series("", index=range(ctx.n), dtype="object")
        for col in columns:
            empty = t[col].isna().to_numpy() & scope
            names = names.where(~empty, names + np.where(names == "", "", ", ") + col)
        listed = scope & (names != "").to_numpy()
        reason[listed] = "item_missing"
        items[listed] = names.to_numpy()[listed]
        unset &= ~listed
        if columns == _ROM and (scope & ~listed).any():
            rest = scope & ~listed
            instrument = _object(t["rom_instrument"])
            known = t["rom_instrument"].isin(list(stats.instruments().index)).to_numpy()
            reason[rest & ~known] = "rom_unknown_instrument"
            reason[rest & known] = "rom_no_norm"
            items[rest] = instrument[rest]
            unset &= ~rest
    if entry.id == "jh_doelrealisatie_gas" and unset.any():
        goals = ctx.data.goals
        where = ctx.index.get_indexer(pd.Index(goals["trajectory_id"].astype("object").to_numpy()))
        has = np.zeros(ctx.n, dtype=bool)
        has[where[where >= 0]] = True
        joint = goals["informant"].isna().to_numpy() | (goals["informant"].astype("object") == "gezamenlijk").to_numpy()
        has_joint = np.zeros(ctx.n, dtype=bool)
        has_joint[where[joint & (where >= 0)]] = True
        reason[unset & ~has] = "no_goals"
        reason[unset & has & ~has_joint] = "no_joint_goals"
        unset &= has_joint
    reason[unset & is_unit] = "outcome_unknown"
    reason[unset & ~is_unit] = "not_counted"


def _explanations(reason, other, items, answers, helped, end_dates: pd.Series, window: int | None, li: int) -> np.ndarray:
    """The text of every reason code, placeholders filled per row (vectorised per code)."""
    n = len(reason)
    out = np.full(n, "", dtype=object)
    if window:
        until = (pd.to_datetime(end_dates).reset_index(drop=True) + pd.DateOffset(months=int(window)))
        until = until.dt.strftime("%d-%m-%Y" if li == 0 else "%Y-%m-%d").astype("object").fillna("")
    else:
        until = pd.Series("", index=range(n), dtype="object")
    fields = {
        "other": pd.Series(other, dtype="object").fillna(""),
        "items": pd.Series(items, dtype="object").fillna(""),
        "answers": pd.Series(answers, dtype="int64").astype(str).astype("object"),
        "helped": pd.Series(helped, dtype="int64").astype(str).astype("object"),
        "months": pd.Series(str(window or ""), index=range(n), dtype="object"),
        "until": until,
    }
    codes = pd.Series(reason, dtype="object")
    for code in codes.dropna().unique():  # a loop over the few reason codes
        hit = (codes == code).to_numpy()
        text = pd.Series("", index=np.flatnonzero(hit), dtype="object")
        for literal, name, _, _ in string.Formatter().parse(REASONS[code][li]):
            text = text + literal
            if name:
                text = text + fields[name][hit].to_numpy()
        out[hit] = text.to_numpy()
    return out


# ------------------------------------------------------------------------------------------------
# The xlsx for the supplier
# ------------------------------------------------------------------------------------------------


def write_xlsx(frame: pd.DataFrame, out: str | Path, *, lang: str = "nl", reference_date=None,
               granularity: str = "year", source: str | None = None, settings: Settings | None = None) -> Path:
    """Write :func:`counted_records` to ``out`` (.xlsx), atomically.

    Sheet "Tellingen" ("Counts"): one row per trajectory × indicator, Dutch headers (``lang="nl"``),
    header frozen, autofilter; more rows than one sheet holds continue on "Tellingen 2", ....
    Sheet "Toelichting" ("Explanation"): that the file is record-level and must not be shared, the
    reference date, periods and follow-up windows, and what each column means. Text from the delivery
    is written as text, never as a formula.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    from .validation import bold_cells
    from openpyxl.utils import get_column_letter

    li = _lang_index(lang)
    words = texts.for_lang("counted", lang)
    out = Path(out)
    yes, no = words["yes"], words["no"]
    columns = [c for c in _XLSX_COLUMNS]
    table = pd.DataFrame({
        c: (frame[c].map({True: yes, False: no}) if c == "counted" else frame[c]) for c in columns
    })
    table = table.astype({c: "object" for c in columns if c != "outcome"})
    table = table.where(table.notna(), None)
    headers = [HEADERS[c][li] for c in columns]
    widths = [min(max(len(h) + 2, 12), 60) for h in headers]
    for i, c in enumerate(columns):
        if c in ("outcome", "counted"):
            continue
        lengths = table[c].dropna().astype(str).str.len()
        if len(lengths):
            widths[i] = min(max(widths[i], int(lengths.quantile(0.95)) + 2), 80)

    def write(tmp: Path) -> None:
        wb = Workbook(write_only=True)
        sheet_name = words["sheet"]
        chunks = range(0, max(len(table), 1), _EXCEL_MAX_ROWS)
        for k, start in enumerate(chunks):
            ws = wb.create_sheet(sheet_name if k == 0 else f"{sheet_name} {k + 1}")
            ws.freeze_panes = "A2"
            for i, width in enumerate(widths, start=1):
                ws.column_dimensions[get_column_letter(i)].width = width
            part = table.iloc[start:start + _EXCEL_MAX_ROWS]
            ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(part) + 1}"
            ws.append(bold_cells(ws, headers))
            for values in part.itertuples(index=False, name=None):
                ws.append([_text_cell(ws, v, WriteOnlyCell) for v in values])
        _explanation_sheet(wb.create_sheet(words["explanation_sheet"]), li, columns, reference_date,
                           granularity, source, len(table), settings or DEFAULT, WriteOnlyCell)
        wb.save(tmp)

    atomic.write_with(out, write)
    return out


def _text_cell(ws, value, cell_class):
    """A value for a write-only sheet: text starting with '=' as a text cell (never a formula)."""
    if isinstance(value, str) and value.startswith("="):
        cell = cell_class(ws, value)
        cell.data_type = "s"
        return cell
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def _explanation_sheet(ws, li: int, columns, reference_date, granularity, source, n_rows, settings: Settings,
                       cell_class) -> None:
    from openpyxl.styles import Alignment, Font

    from .validation import bold_cells

    bold = Font(bold=True)
    wrapped = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 100
    ref = pd.Timestamp(reference_date) if reference_date is not None else None
    w = texts.for_lang("counted", texts.LANGS[li])
    windows = "; ".join(
        f"{e.label(texts.LANGS[li])}: {e.window_months(settings)} {w['months']}"
        for e in registry.REGISTRY.values() if e.window_setting and e.id in indicators_mod.COMPUTABLE)
    title, lines = w["title"], w["lines"]
    facts = [(w["reference_date"], f"{ref:{w['date_format']}}" if ref is not None else ""),
             (w["periods"], w["years"] if granularity == "year" else w["half_years"]),
             (w["windows"], windows + w["windows_note"]),
             (w["delivery"], source or ""), (w["rows"], report.fmt_int(n_rows, texts.LANGS[li]))]
    column_title = (w["column"], w["meaning"])
    head = cell_class(ws, title)
    head.font = bold
    ws.append([head])
    ws.append([])
    def text(value):
        cell = cell_class(ws, value)
        cell.data_type = "s"
        cell.alignment = wrapped
        return cell

    for line in lines:
        ws.append([None, text(line)])
    ws.append([])
    for key, value in facts:
        ws.append([key, text(value)])
    ws.append([])
    ws.append(bold_cells(ws, column_title, cell_class))
    for c in columns:
        ws.append([HEADERS[c][li], text(HEADERS[c][2 + li])])
