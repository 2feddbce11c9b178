"""The explorer: an ipywidgets workbench for researchers in JupyterLab.

:class:`Explorer` puts the indicator catalogue, the institutions, the periods and the definition
settings behind a handful of widgets, and shows the funnel plot, the trend, the table of
institutions with their intervals and (when adjusted) the case-mix model summary, all updating as
the widgets change. Below them, the control-chart view of one institution (issue 16, the improvement
cycle): a p-chart per quarter or half-year with limits from a chosen baseline, a VLAD where a
case-mix model exists, periods hidden by the disclosure rule left out, and the date of an action
(from the delivery's ``actions*`` files) marked (:meth:`Explorer.control_view`). The widget logic lives here, not in a notebook, so that it is tested without a
browser and can be used in any notebook::

    from outcome_analysis.presentation.explorer import Explorer
    Explorer("../data/demo").show()

Responsiveness comes from caching (see :class:`Explorer` Notes): the indicator tables are computed
once per *definition setting* (granularity and follow-up windows), suppression thresholds only
re-mark the cached tables, and case-mix models are fitted once per indicator, period, care type and
setting. A change of indicator, care type, period, institutions, breakdown or raw/adjusted (when
cached) only filters cached frames and redraws.
"""
from __future__ import annotations

import contextlib
import dataclasses
import io as _io
import os
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from outcome_analysis import atomic, indicators, texts
from outcome_analysis.statistics import casemix
from . import plots, published, report
from outcome_analysis.indicators import registry
from outcome_analysis.contract.dataset import Dataset
from outcome_analysis.errors import OutcomeAnalysisError
from outcome_analysis.settings import DEFAULT, Settings

__all__ = ["Explorer", "ExplorerError", "WINDOW_SETTINGS"]

#: the follow-up window settings an explorer can change (the registry's ``window_setting`` and
#: ``extra_window_setting`` values).
WINDOW_SETTINGS = tuple(dict.fromkeys(
    s for e in registry.REGISTRY.values() for s in (e.window_setting, e.extra_window_setting) if s))
TABLE_FORMATS = ("csv", "xlsx")
#: unit-level record frames kept for case-mix fits (each is as long as the population).
RECORDS_KEPT = 2
#: shared per-trajectory arrays kept, one per (granularity, settings) seen last (a few tens of bytes
#: per trajectory each); switching back to a recent view reuses them.
BASES_KEPT = 2
FIGURE_FORMATS = ("png", "svg")
#: columns blanked in exported tables on suppressed rows (the numbers never leave the workbench).
_HIDDEN_ON_EXPORT = ("numerator", "denominator", "value", "ci_low", "ci_high", "missing", "n",
                     "observed", "expected", "oe_ratio", "oe_ci_low", "oe_ci_high", "adjusted_value",
                     "raw_value", "signal")
#: counts on their own in an exported table: empty below ``min_count``, else rounded to ``round_to``.
_STAND_ALONE_COUNTS = ("missing", "excluded_window", "n", "observed")
#: the order in which :meth:`Explorer.set` assigns widgets (options of later ones depend on earlier).
_SET_ORDER = ("indicator_set", "indicator", "granularity", "window", "min_denominator", "min_count",
              "min_cell", "care_type", "breakdown", "period", "trend_periods", "institutions", "adjusted",
              "control_institution", "control_interval", "control_baseline", "control_mark", "control_date")


class ExplorerError(OutcomeAnalysisError, ValueError):
    """A request the explorer cannot meet (unknown widget name, export format, ...); the message names it."""


class Explorer:
    """An ipywidgets workbench over one data set: pick, compare, adjust, export.

    Parameters
    ----------
    data : Dataset or str or path
        A loaded data set, or a folder/file that :func:`outcome_analysis.io.load` reads.
    settings : Settings, optional
        The starting definition settings (default ``settings.DEFAULT``); the widgets change the
        follow-up windows and the thresholds ``min_denominator`` / ``min_count`` / ``min_cell`` on top of
        them; the exports follow the same thresholds.
    lang : {"nl", "en"}
        Language of labels, tables and figures.
    export_dir : str or path
        Where the export buttons write (created when needed); default ``reports/exploration``.
    granularity : {"year", "half_year"}
        The starting period granularity.
    indicator : str, optional
        The starting indicator (default: the first computable one of the registry).
    precompute : bool
        Compute every indicator at the starting settings in one call (default), so that switching
        indicators is a cache hit from the start. ``False`` computes each indicator when first shown.
    actions : DataFrame or str or path, optional
        Improvement actions (the contract's ``actions`` table: ``institution``, ``indicator``,
        ``agreed_on``, ``description``, ...) whose dates the control-chart view offers to mark: a
        frame, or a folder/file read by :func:`outcome_analysis.contract.actions.read_actions`.
        Default: the ``actions*`` files of the delivery folder ``data`` names (none: no actions).

    Attributes
    ----------
    widgets : dict of str -> ipywidgets.Widget
        The controls, by name: ``indicator_set``, ``indicator``, ``care_type``, ``period``,
        ``trend_periods``, ``institutions``, ``adjusted``, ``breakdown``, ``window``,
        ``min_denominator``, ``min_count``, ``min_cell``, ``granularity``, and those of the
        control-chart view: ``control_institution`` (``""``: view closed), ``control_interval``
        (``quarter`` | ``half_year``), ``control_baseline`` (``first_year`` | ``all``),
        ``control_mark`` (an action's ``agreed_on`` as ``"YYYY-MM-DD"``, or ``""``) and
        ``control_date`` (a date typed; wins over ``control_mark``). Assigning ``.value`` updates the views.
    actions : DataFrame or None
        The actions read (see ``actions``); ``action_problems`` lists what the reader found wrong.
    last_update_seconds : float
        Wall time of the last update (recomputation, filtering and drawing).
    last_update_recomputed : bool
        Whether the last update computed anything (a cache miss) rather than filtering cached frames.
    last_exported : list of Path
        The files written by the last export.

    Notes
    -----
    **Caches.** Four dicts keyed by frozen tuples:

    - ``indicators.compute`` tables per ``(indicator, granularity, window values)`` where the window
      values are those of the indicator's ``window_setting`` / ``extra_window_setting`` only: a
      window change recomputes the indicators that use that window, nothing else. With
      ``precompute`` the starting settings are computed for every indicator in one call (one shared
      episode chaining); after a change of setting the shown indicator is computed at once and the
      others when they are first shown;
    - the same tables re-marked by :func:`outcome_analysis.indicators.resuppress` per ``(table key, min_denominator,
      min_count, min_cell)``: thresholds change only the ``suppressed`` flags;
    - ``indicators.records`` per table key (for the case-mix models; only the latest
      :data:`RECORDS_KEPT`, as they are as long as the population);
    - ``casemix.adjust_records`` results per ``(table key, period, care_type)``.

    The control-chart view (:meth:`control_view`) adds the quarter or half-year table of every
    institution per indicator setting, care type, interval and thresholds (disclosure marked on it,
    :func:`_control_suppressed`) and the expected events per record of the case-mix model of each
    period per indicator setting and care type; it computes nothing while ``control_institution``
    is empty.

    The base settings (regular ends, GAS and RCI settings, ``conf``) do not change within one
    explorer, so they are not part of the keys.

    **Privacy.** The table shows suppressed rows with ``–*`` (``report.display_table``); figures
    never draw them. Exports write only what the screen may show (:meth:`export_frame`): suppressed
    rows keep their keys with every figure empty and a reason word, stand-alone counts are rounded,
    and each file carries a note naming the thresholds in force.

    Examples
    --------
    >>> from outcome_analysis.demo import make_demo        # doctest: +SKIP
    >>> ex = Explorer(make_demo(scale=0.05))                # doctest: +SKIP
    >>> ex.set(indicator="jh_uitval", institutions=["GI Veluwe-IJssel"])  # doctest: +SKIP
    >>> ex.current_table().head()                           # doctest: +SKIP
    >>> ex.show()                                           # doctest: +SKIP
    """

    def __init__(self, data: Dataset | str | os.PathLike, *, settings: Settings | None = None,
                 lang: str = "nl", export_dir: str | os.PathLike = "reports/exploration",
                 granularity: str = "year", indicator: str | None = None, precompute: bool = True,
                 actions: pd.DataFrame | str | os.PathLike | None = None):
        texts.check_lang(lang, ExplorerError)
        folder = None
        if not isinstance(data, Dataset):
            folder = Path(data)
            from outcome_analysis.contract import io
            from outcome_analysis.settings import for_delivery

            if settings is None:  # the delivery's own settings.yaml, as the batch reads it
                settings = for_delivery(data)[0]
            data = io.load(data)
        self.data = data
        self.base_settings = settings or DEFAULT
        self.lang = lang
        self.export_dir = Path(export_dir)
        self._t = texts.for_lang("explorer", lang, error=ExplorerError)
        self._windows = {s: int(getattr(self.base_settings, s)) for s in WINDOW_SETTINGS}
        self._tables: dict[tuple, pd.DataFrame] = {}
        self._marked: dict[tuple, pd.DataFrame] = {}
        self._records: dict[tuple, pd.DataFrame] = {}
        self._bases: list[tuple[tuple, object]] = []
        self._adjusted: dict[tuple, pd.DataFrame] = {}
        self._control: dict[tuple, pd.DataFrame] = {}
        self._expected: dict[tuple, pd.Series] = {}
        self._control_view: dict | None = None
        self._control_figure = None
        self._holding = 0
        self._recomputed = False
        self._view: dict = {}
        self._figure = None
        self.last_update_seconds = 0.0
        self.last_update_recomputed = False
        self.last_exported: list[Path] = []
        self.institutions = data.institutions
        self.actions, self.action_problems = self._load_actions(actions, folder)
        # the pooled row's name, by the reports' one rule: "Landelijk" only for a delivery declared
        # national, else "Alle instellingen (N)"; a delivery of one institution has no comparator,
        # and its pooled row is simply the whole delivery
        self.pooled_label = (report.comparator(self.base_settings, len(self.institutions), lang)["label"]
                             or self._t["whole_delivery"])
        self._build_widgets(granularity, indicator)
        if precompute:
            self._precompute()
        self._update()

    # ------------------------------------------------------------------------------------------
    # widgets

    def _build_widgets(self, granularity: str, indicator: str | None) -> None:
        import ipywidgets as w

        t = self._t
        computable = set(indicators.COMPUTABLE)
        sets = [s for s in registry.SETS if any(i in computable for i in registry.ids(set=s))]
        if indicator is not None:
            start_set = registry.get(indicator).set
        else:
            start_set = sets[0]
        wide = w.Layout(width="auto")
        desc = {"description_width": "initial"}
        self.widgets = {
            "indicator_set": w.Dropdown(options=[(registry.set_label(s, self.lang), s) for s in sets],
                                        value=start_set, description=t["set"], style=desc, layout=wide),
            "indicator": w.Dropdown(options=self._indicator_options(start_set), description=t["indicator"],
                                    style=desc, layout=wide),
            "care_type": w.Dropdown(options=[], description=t["care_type"], style=desc),
            "breakdown": w.Dropdown(options=[(t["headline"], "")], value="", description=t["breakdown"], style=desc),
            "period": w.Dropdown(options=[], description=t["period"], style=desc),
            "trend_periods": w.SelectionRangeSlider(options=["-"], index=(0, 0), description=t["trend"],
                                                    style=desc, continuous_update=False,
                                                    layout=w.Layout(width="420px")),
            "institutions": w.SelectMultiple(options=self.institutions, value=(), rows=8,
                                             description=t["institutions"], style=desc,
                                             layout=w.Layout(width="420px")),
            "adjusted": w.Checkbox(value=False, description=t["adjusted"], indent=False),
            "granularity": w.ToggleButtons(options=[(t["year"], "year"), (t["half_year"], "half_year")],
                                           value=granularity, description=t["granularity"], style=desc),
            "window": w.BoundedIntText(value=12, min=1, max=120, description=t["window"], style=desc,
                                       layout=w.Layout(width="200px")),
            "min_denominator": w.BoundedIntText(value=self.base_settings.min_denominator, min=1, max=10_000,
                                                description=t["min_denominator"], style=desc,
                                                layout=w.Layout(width="200px")),
            "min_count": w.BoundedIntText(value=self.base_settings.min_count, min=1, max=10_000,
                                          description=t["min_count"], style=desc, layout=w.Layout(width="200px")),
            "min_cell": w.BoundedIntText(value=self.base_settings.min_cell, min=1,
                                         max=10_000, description=t["min_cell"], style=desc,
                                         layout=w.Layout(width="200px")),
            "control_institution": w.Dropdown(options=[(t["control_none"], ""), *[(i, i) for i in self.institutions]],
                                              value="", description=t["control_institution"], style=desc,
                                              layout=w.Layout(width="420px")),
            "control_interval": w.ToggleButtons(options=[(t["control_" + i], i) for i in CONTROL_INTERVALS],
                                                value="quarter", description=t["control_interval"], style=desc),
            "control_baseline": w.ToggleButtons(options=[(t["control_" + b], b) for b in CONTROL_BASELINES],
                                                value="first_year", description=t["control_baseline"], style=desc),
            "control_mark": w.Dropdown(options=[(t["control_no_mark"], "")], value="", description=t["control_mark"],
                                       style=desc, disabled=True, layout=w.Layout(width="420px")),
            "control_date": w.DatePicker(value=None, description=t["control_date"], style=desc),
        }
        if indicator is not None:
            self.widgets["indicator"].value = registry.get(indicator).id
        for name, widget in self.widgets.items():
            widget.observe(self._on_change, names="value")
        self.widgets["window"].observe(self._store_window, names="value")
        self.figure_widget = w.Image(format="png", layout=w.Layout(max_width="100%"))
        self.table_widget = w.HTML()
        self.summary_widget = w.HTML()
        self.status_widget = w.HTML()
        self.export_widget = w.HTML()
        self.control_figure_widget = w.Image(format="png", layout=w.Layout(max_width="100%", display="none"))
        self.control_widget = w.HTML()
        self.buttons = {}
        for fmt, kind in (("csv", "table"), ("xlsx", "table"), ("png", "figure"), ("svg", "figure")):
            button = w.Button(description=fmt.upper() if fmt != "xlsx" else "Excel", icon="download",
                              tooltip=f"{t['export']} {kind} → {fmt}", layout=w.Layout(width="90px"))
            button.on_click(lambda _b, fmt=fmt, kind=kind: self._export_clicked(kind, fmt))
            self.buttons[fmt] = button
        g = self.widgets
        controls = w.VBox([
            w.HBox([g["indicator_set"], g["indicator"]]),
            w.HBox([g["care_type"], g["breakdown"], g["period"], g["adjusted"]]),
            w.HBox([g["institutions"], w.VBox([g["trend_periods"], g["granularity"],
                                               w.HBox([g["window"], g["min_denominator"], g["min_count"],
                                                       g["min_cell"]])])]),
        ])
        exports = w.HBox([w.Label(t["export"] + ":"), *self.buttons.values()])
        control = w.VBox([w.HBox([g["control_institution"], g["control_interval"], g["control_baseline"]]),
                          w.HBox([g["control_mark"], g["control_date"]]),
                          self.control_figure_widget, self.control_widget])
        self.box = w.VBox([controls, self.status_widget, self.figure_widget, self.table_widget,
                           self.summary_widget, exports, self.export_widget, control])
        self.box.add_class("oa-explorer")

    def _indicator_options(self, set_id: str) -> list[tuple[str, str]]:
        computable = set(indicators.COMPUTABLE)
        out = []
        for i in registry.ids(set=set_id):
            if i in computable:
                e = registry.get(i)
                number = f"{e.number}. " if e.number is not None else ""
                out.append((f"{number}{e.label(self.lang)}", i))
        return out

    def show(self):
        """Display the explorer (in a notebook) and return its widget box."""
        try:
            from IPython.display import display

            display(self.box)
        except ImportError:  # pragma: no cover - IPython is a dependency of ipywidgets
            pass
        return self.box

    def _ipython_display_(self):  # a bare ``Explorer(...)`` as a cell's last value shows it
        from IPython.display import display

        display(self.box)

    @contextlib.contextmanager
    def _hold(self):
        """Widget changes inside do not trigger updates (one update follows, by the caller)."""
        self._holding += 1
        try:
            yield
        finally:
            self._holding -= 1

    def _on_change(self, change) -> None:
        if self._holding:
            return
        self._update()

    def _store_window(self, change) -> None:
        setting = registry.get(self.widgets["indicator"].value).window_setting
        if setting is not None and not self.widgets["window"].disabled:
            self._windows[setting] = int(change["new"])

    def set(self, **values) -> "Explorer":
        """Set several widgets at once, then update once.

        Parameters
        ----------
        **values
            Widget name → value (names as in :attr:`widgets`; ``institutions`` takes a list or a
            single name). Assigned in dependency order (set, indicator, granularity, window,
            thresholds, care type, breakdown, period, trend periods, institutions, adjusted).

        Returns
        -------
        Explorer
            ``self``, for chaining.

        Raises
        ------
        ExplorerError
            For an unknown widget name or a value the widget does not offer (named in the message).
        """
        unknown = sorted(set(values) - set(self.widgets))
        if unknown:
            raise ExplorerError(f"unknown widget(s) {unknown}; the explorer has {sorted(self.widgets)}")
        start = time.perf_counter()
        self._recomputed = False
        with self._hold():
            for name in _SET_ORDER:
                if name not in values:
                    continue
                value = values[name]
                if name == "institutions":
                    value = (value,) if isinstance(value, str) else tuple(value)
                elif name == "trend_periods":
                    value = tuple(value)
                elif name == "control_date" and value is not None:
                    value = pd.Timestamp(value).date()
                if name == "indicator" and value in indicators.COMPUTABLE:
                    # offer the indicator's set first (without showing that set's first indicator)
                    set_id = registry.get(value).set
                    self.widgets["indicator_set"].value = set_id
                    options = self._indicator_options(set_id)
                    if list(self.widgets["indicator"].options) != options:
                        self.widgets["indicator"].options = options
                try:
                    self.widgets[name].value = value
                except Exception as exc:  # traitlets.TraitError: not one of the options
                    raise ExplorerError(f"cannot set {name} to {value!r}: {exc}") from None
                if name in ("indicator_set", "indicator", "granularity", "window", "care_type", "breakdown",
                            "control_institution"):
                    self._sync_options()
        self._update(start)
        return self

    # ------------------------------------------------------------------------------------------
    # state and caches

    @property
    def settings(self) -> Settings:
        """The definition settings the current view is computed with."""
        g = self.widgets
        cell = ({"min_cell": int(g["min_cell"].value)}
                if any(f.name == "min_cell" for f in dataclasses.fields(self.base_settings)) else {})
        return dataclasses.replace(self.base_settings, **self._windows,
                                   min_denominator=int(g["min_denominator"].value),
                                   min_count=int(g["min_count"].value), **cell)

    @property
    def granularity(self) -> str:
        return self.widgets["granularity"].value

    def _key(self, indicator: str, granularity: str | None = None) -> tuple:
        entry = registry.get(indicator)
        windows = tuple((s, self._windows[s]) for s in (entry.window_setting, entry.extra_window_setting) if s)
        return (indicator, granularity or self.granularity, windows)

    def _base(self):
        """The shared per-trajectory arrays for the current granularity and settings
        (:func:`outcome_analysis.indicators.prepare`), built once and handed to every ``compute`` and
        ``records`` call of this view; the latest :data:`BASES_KEPT` are kept."""
        key = (self.granularity, self.settings)  # Settings hold lists: compared, not hashed
        for kept, base in self._bases:
            if kept == key:
                return base
        base = indicators.prepare(self.data, *key)
        self._bases = [*self._bases[-(BASES_KEPT - 1):], (key, base)]
        return base

    def _precompute(self) -> None:
        """All computable indicators at the current settings in one ``compute`` call."""
        table = indicators.compute(self._base(), list(indicators.COMPUTABLE), granularity=self.granularity,
                                   settings=self.settings)
        for ind, part in table.groupby("indicator", sort=False):
            self._tables[self._key(ind)] = part.reset_index(drop=True)
        for ind in indicators.COMPUTABLE:
            self._tables.setdefault(self._key(ind), pd.DataFrame(columns=list(indicators.OUTPUT_COLUMNS)))

    def _table(self, indicator: str) -> pd.DataFrame:
        """The compute table of ``indicator`` under the current settings, suppression re-marked."""
        key = self._key(indicator)
        if key not in self._tables:
            self._recomputed = True
            self._tables[key] = indicators.compute(self._base(), indicator, granularity=self.granularity,
                                                   settings=self.settings)
        s = self.settings
        mkey = (key, s.min_denominator, s.min_count, s.min_cell)
        if mkey not in self._marked:
            self._marked[mkey] = indicators.resuppress(self._tables[key], s)
        return self._marked[mkey]

    def _adjust(self, indicator: str, period: str, care_type: str) -> pd.DataFrame:
        """Case-mix adjusted O/E per institution (cached per indicator, setting, period, care type)."""
        key = self._key(indicator)
        akey = (key, period, care_type)
        if akey not in self._adjusted:
            self._recomputed = True
            if key not in self._records:
                while len(self._records) >= RECORDS_KEPT:  # unit-level frames are large: keep the latest
                    self._records.pop(next(iter(self._records)))
                self._records[key] = indicators.records(self._base(), indicator, granularity=self.granularity,
                                                        settings=self.settings)
            recs = self._records[key]
            recs = recs[(recs["period"].astype(str) == period) & (recs["care_type"].astype(str) == care_type)]
            self._adjusted[akey] = casemix.adjust_records(recs, settings=self.settings, indicator=indicator,
                                                          kind="share")
        return self._adjusted[akey]

    def _with_verdicts(self, indicator: str, period: str, care_type: str, adj: pd.DataFrame) -> pd.DataFrame:
        """The case-mix rows with the verdict of the comparisons table: the ``adjusted`` rows
        :func:`outcome_analysis.running.comparisons.build` makes of them under the current thresholds
        (a hidden figure has no verdict), so the view shows what :meth:`Results.comparison` would;
        ``signal`` and the verdict's own interval ``oe_ci_low`` / ``oe_ci_high`` are read, not decided."""
        from outcome_analysis.running import comparisons

        if not len(adj):
            return adj
        table = self._table(indicator)
        part = table.loc[(table["period"].astype(str) == str(period)).to_numpy(bool)
                         & (table["care_type"] == care_type).to_numpy(bool)]
        rows = comparisons.build(part, adj.assign(indicator=indicator, report_period=str(period)),
                                 pd.DataFrame(), self.settings)
        rows = rows.loc[(rows["basis"] == "adjusted").to_numpy(bool)].drop_duplicates("unit").set_index("unit")
        names = adj["institution"].astype(str)
        return adj.assign(signal=names.map(rows["signal"]).fillna("none").to_numpy(object),
                          oe_ci_low=names.map(rows["ci_low"]).to_numpy(float),
                          oe_ci_high=names.map(rows["ci_high"]).to_numpy(float))

    def cache_info(self) -> dict[str, int]:
        """Entries in each cache: ``tables``, ``marked``, ``records``, ``adjusted``, ``control``
        (quarter tables of the control-chart view), ``expected`` (expected events per record)."""
        return {"tables": len(self._tables), "marked": len(self._marked), "records": len(self._records),
                "adjusted": len(self._adjusted), "control": len(self._control), "expected": len(self._expected)}

    def _load_actions(self, actions, folder: Path | None) -> tuple[pd.DataFrame | None, list]:
        """The improvement actions to offer as dates to mark: a frame given, a path given (a folder
        or file :func:`outcome_analysis.contract.actions.read_actions` reads), else the ``actions*``
        files of the delivery folder the explorer was opened on (none: no actions)."""
        if isinstance(actions, pd.DataFrame):
            return actions.copy(), []
        if actions is not None:
            from outcome_analysis.contract.actions import read_actions

            return read_actions(actions, institutions=list(self.institutions))
        if folder is not None:
            return _read_actions(folder, self.institutions)
        return None, []

    # ------------------------------------------------------------------------------------------
    # updating

    def _sync_options(self) -> None:
        """Make the dependent widgets' options fit the indicator, care type and granularity."""
        g, t = self.widgets, self._t
        with self._hold():
            options = self._indicator_options(g["indicator_set"].value)
            ids = [v for _l, v in options]
            if list(g["indicator"].options) != options:
                current = g["indicator"].value
                g["indicator"].options = options
                g["indicator"].value = current if current in ids else ids[0]
            entry = registry.get(g["indicator"].value)
            if entry.window_setting:
                g["window"].disabled = False
                g["window"].value = self._windows[entry.window_setting]
                g["window"].tooltip = entry.window_setting
            else:
                g["window"].disabled = True
            table = self._table(entry.id)
            cares = [c for c in entry.care_types if (table["care_type"] == c).any()] or list(entry.care_types)
            care_opts = [(registry.care_type_label(c, self.lang), c) for c in cares]
            if list(g["care_type"].options) != care_opts:
                current = g["care_type"].value
                g["care_type"].options = care_opts
                g["care_type"].value = current if current in cares else cares[0]
            care = g["care_type"].value
            part = table[table["care_type"] == care]
            cats = sorted(part["category"].unique().tolist(), key=lambda c: (c != "", c))
            cat_opts = [(t["headline"] if c == "" else c.replace(":", ": "), c) for c in cats] or [(t["headline"], "")]
            if list(g["breakdown"].options) != cat_opts:
                current = g["breakdown"].value
                g["breakdown"].options = cat_opts
                values = [v for _l, v in cat_opts]
                g["breakdown"].value = current if current in values else values[0]
            rows = part[(part["category"] == g["breakdown"].value) & (part["scope"] == "national")]
            periods = sorted(part["period"].unique().tolist())
            if list(g["period"].options) != periods:
                current = g["period"].value
                g["period"].options = periods
                counted = sorted(rows.loc[rows["denominator"] > 0, "period"].unique().tolist()) or periods
                g["period"].value = current if current in periods else (counted[-1] if counted else None)
            trend_opts = periods or ["-"]
            if list(g["trend_periods"].options) != trend_opts:
                current = g["trend_periods"].value
                g["trend_periods"].options = trend_opts
                if current and all(p in trend_opts for p in current):
                    g["trend_periods"].value = current
                else:
                    g["trend_periods"].index = (0, len(trend_opts) - 1)
            adjustable = entry.casemix and g["breakdown"].value == ""
            g["adjusted"].disabled = not adjustable
        self._sync_control()

    def _update(self, start: float | None = None) -> None:
        """Recompute what the widgets need (cache misses only), filter, redraw; record the timing."""
        if start is None:
            start = time.perf_counter()
            self._recomputed = False
        self._sync_options()
        self._render()
        self._render_control()
        self.last_update_seconds = time.perf_counter() - start
        self.last_update_recomputed = self._recomputed
        t = self._t
        how = t["recomputed"] if self._recomputed else t["cached"]
        self.status_widget.value = (f'<span class="oa-status">{report.fmt_number(self.last_update_seconds, 2, self.lang)}'
                                    f' {t["seconds"]} ({how})</span>')

    def _selection(self) -> dict:
        g = self.widgets
        entry = registry.get(g["indicator"].value)
        category = g["breakdown"].value or ""
        family = category.partition(":")[0]
        rtype = entry.headline if category == "" else entry.breakdowns.get(family)
        return {"entry": entry, "indicator": entry.id, "care_type": g["care_type"].value,
                "period": g["period"].value, "category": category, "row_type": rtype,
                "trend_periods": tuple(g["trend_periods"].value or ()),
                "institutions": tuple(g["institutions"].value),
                "adjusted": bool(g["adjusted"].value) and not g["adjusted"].disabled}

    def _rows(self, sel: dict) -> pd.DataFrame:
        """Rows of the cached table for the selection (all periods), one per scope/institution/period."""
        table = self._table(sel["indicator"])
        rows = table[(table["care_type"] == sel["care_type"]) & (table["category"] == sel["category"])]
        window = sel["entry"].window_months(self.settings)
        if window is not None and len(rows):
            rows = rows[rows["window_months"].fillna(-1) == window]
        return rows.drop_duplicates(["scope", "institution", "period"])

    def _render(self) -> None:
        sel = self._selection()
        rows = self._rows(sel)
        now = rows[rows["period"] == sel["period"]]
        inst = now[now["scope"] == "institution"].copy()
        national = now[now["scope"] == "national"]
        cols = ["institution", "period", "care_type", "category", "numerator", "denominator", "value", "ci_low",
                "ci_high", "missing", "excluded_window", "window_months", "suppressed"]
        out = pd.concat([national.assign(institution=self.pooled_label)[cols], inst[cols]], ignore_index=True)
        out.insert(0, "scope", ["national"] * len(national) + ["institution"] * len(inst))
        out.insert(0, "indicator", sel["indicator"])
        out["selected"] = out["institution"].isin(sel["institutions"]) & (out["scope"] == "institution")
        summary = None
        if sel["adjusted"] and sel["period"] is not None:
            adj = self._with_verdicts(sel["indicator"], sel["period"], sel["care_type"],
                                      self._adjust(sel["indicator"], sel["period"], sel["care_type"]))
            summaries = adj.attrs.get("summaries") or []
            summary = summaries[0] if summaries else None
            keep = ["institution", "n", "observed", "expected", "oe_ratio", "oe_ci_low", "oe_ci_high",
                    "adjusted_value", "signal"]
            out = out.merge(adj[keep], on="institution", how="left")
            if len(adj):  # national row: O/E 1 by construction
                out.loc[out["scope"] == "national", ["oe_ratio", "adjusted_value"]] = [1.0, float(adj["national_value"].iloc[0])]
        self._view = {"selection": sel, "table": out, "rows": rows, "summary": summary}
        self._draw(sel, out, rows)
        self.table_widget.value = self._table_html(sel, out)
        self.summary_widget.value = self._summary_html(sel, summary)

    def _title(self, sel: dict) -> str:
        care = registry.care_type_label(sel["care_type"], self.lang)
        cat = f" – {sel['category']}" if sel["category"] else ""
        return f"{sel['entry'].label(self.lang)}{cat}, {care}, {sel['period']}"

    def _draw(self, sel: dict, out: pd.DataFrame, rows: pd.DataFrame) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        t = self._t
        # a fixed layout: constrained layout would cost more than the rest of a cached update
        fig = Figure(figsize=(11, 4.0))
        FigureCanvasAgg(fig)
        ax_f, ax_t = fig.subplots(1, 2, width_ratios=(1.1, 1))
        fig.subplots_adjust(left=0.07, right=0.985, top=0.84, bottom=0.22, wspace=0.22)
        inst = out[out["scope"] == "institution"]
        selected = list(sel["institutions"])
        is_mean = sel["row_type"] == "mean"
        if sel["adjusted"] and "oe_ratio" in inst:
            data = inst.dropna(subset=["oe_ratio", "expected"])
            plots.funnel_plot(data, kind="oe", highlight=selected, lang=self.lang, ax=ax_f, settings=self.settings,
                              title=f"{t['funnel']}: {t['adjusted'].split(' (')[0].lower()}")
        elif is_mean:
            plots.caterpillar_plot(inst, highlight=selected[0] if selected else None, kind="mean",
                                   value_label=t["mean"], lang=self.lang, ax=ax_f)
        else:
            national = out[out["scope"] == "national"]
            target = float(national["value"].iloc[0]) if len(national) and pd.notna(national["value"].iloc[0]) else None
            plots.funnel_plot(inst, kind="share", highlight=selected, target=target, lang=self.lang, ax=ax_f,
                              national_label=self.pooled_label, settings=self.settings,
                              title=t["funnel"])
        self._draw_trend(sel, rows, ax_t, is_mean)
        fig.suptitle(self._title(sel), x=0.01, ha="left", fontsize=10)
        self._figure = fig
        buf = _io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        self.figure_widget.value = buf.getvalue()

    def _draw_trend(self, sel: dict, rows: pd.DataFrame, ax, is_mean: bool) -> None:
        t = self._t
        lo, hi = (sel["trend_periods"] + (None, None))[:2]
        periods = sorted(rows["period"].unique().tolist())
        if lo in periods and hi in periods:
            periods = periods[periods.index(lo): periods.index(hi) + 1]
        trend = rows[rows["period"].isin(periods)]
        selected = list(sel["institutions"])
        kind = "mean" if is_mean else "share"
        title = t["trend_raw"]
        if selected:
            plots.trend_plot(trend, highlight=selected, kind=kind, lang=self.lang, ax=ax, title=title,
                             national_label=self.pooled_label,
                             settings=self.settings)
            ax.legend(loc="best", frameon=False, fontsize=7)  # the explorer's fixed layout has no room below
        else:
            nat = trend[trend["scope"] == "national"].sort_values("period")
            y = nat["value"].astype(float).where(~nat["suppressed"])
            ax.plot(range(len(nat)), y, color=plots.NATIONAL, marker="s", ls="--", label=self.pooled_label,
                    gid="national")
            ax.set_xticks(range(len(nat)))
            ax.set_xticklabels(nat["period"].tolist())
            if not is_mean:
                from matplotlib.ticker import FuncFormatter

                ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: report.fmt_pct(v, 0, self.lang)))
            ax.set_title(title, loc="left", fontsize=10)
            ax.legend(loc="best", frameon=False, fontsize=7)
        if is_mean:
            ax.set_ylabel(t["mean"])

    def _table_html(self, sel: dict, out: pd.DataFrame) -> str:
        t = self._t
        if not len(out):
            return str(report.note(t["no_data"]))
        shown = out.assign(selected=np.where(out["selected"], "✓", ""))
        labels = report.ui(self.lang, "columns")
        value_kind = "number" if sel["row_type"] == "mean" else "pct"
        columns: dict = {"institution": None, "selected": (t["selected"], "text"),
                         "value": (t["mean"] if value_kind == "number" else None, value_kind)}
        if value_kind == "pct":
            columns["ci"] = None
        else:
            columns["ci_low"] = (labels["ci_low"], "number")
            columns["ci_high"] = (labels["ci_high"], "number")
        columns.update({"numerator": None, "denominator": None, "missing": None})
        if sel["entry"].window_setting:
            columns["excluded_window"] = None
        if "oe_ratio" in out:
            from outcome_analysis.presentation import overview

            # the verdict's own interval (at the signal limit) and the verdict in words, as the overview
            level = report.fmt_pct(self.settings.signal_limit, 1, self.lang)
            shown = shown.assign(signal=[overview.signal_label(s, self.lang)
                                         if isinstance(s, str) else "" for s in shown["signal"]])
            columns.update({"expected": None, "oe_ratio": None,
                            "oe_ci": (overview.texts_of(self.lang)["col_oe_ci"].format(level=level), "oe_ci"),
                            "adjusted_value": None, "signal": (None, "text")})
        highlight = sel["institutions"][0] if sel["institutions"] else None
        return str(report.display_table(shown, columns, self.lang, caption=self._title(sel), highlight=highlight,
                                        settings=self.settings))

    def _summary_html(self, sel: dict, summary) -> str:
        t = self._t
        g = self.widgets
        if g["adjusted"].value and g["adjusted"].disabled:
            return str(report.note(t["no_adjust"]))
        if summary is None:
            return ""
        import html

        if summary.model == "none":
            return str(report.note(t["no_model"].format(note=summary.note)))
        frame = summary.to_frame(self.lang)
        coef = summary.coefficients_frame(self.lang)
        return (f"<h4>{html.escape(t['summary'])}</h4>" + frame.to_html(index=False, escape=True, na_rep="")
                + f"<h4>{html.escape(t['coefficients'])}</h4>"
                + coef.to_html(index=False, escape=True, float_format=lambda v: f"{v:.3g}", na_rep=""))

    # ------------------------------------------------------------------------------------------
    # control charts (the improvement cycle): p-chart per quarter and VLAD for one institution

    def _control_texts(self) -> dict:
        return self._t

    def _control_records(self, indicator: str, care_type: str) -> pd.DataFrame:
        """The headline records of ``indicator`` and ``care_type`` whose outcome counts (window passed),
        with ``anchor_date``; from the records cache (the latest :data:`RECORDS_KEPT` are kept)."""
        key = self._key(indicator)
        if key not in self._records:
            self._recomputed = True
            while len(self._records) >= RECORDS_KEPT:
                self._records.pop(next(iter(self._records)))
            self._records[key] = indicators.records(self._base(), indicator, granularity=self.granularity,
                                                    settings=self.settings)
        recs = self._records[key]
        keep = ((recs["care_type"].astype(str) == care_type).to_numpy(bool)
                & (recs["category"].astype(str) == "").to_numpy(bool)
                & ~recs["excluded_window"].fillna(False).astype(bool).to_numpy())
        return recs.loc[keep]

    def _control_table(self, indicator: str, care_type: str, interval: str) -> pd.DataFrame:
        """Every institution's and the pooled share per quarter (or half-year) of ``indicator`` in
        ``care_type``, as :func:`indicators.compute` rows (``numerator``, ``denominator``, ``missing``,
        ``value``) with ``suppressed`` under the thresholds in force (:func:`_control_suppressed`);
        cached per indicator setting, care type, interval and thresholds."""
        s = self.settings
        ckey = (self._key(indicator), care_type, interval, s.min_denominator, s.min_count, s.min_cell)
        if ckey in self._control:
            return self._control[ckey]
        recs = self._control_records(indicator, care_type)
        dates = pd.DatetimeIndex(recs["anchor_date"])
        frame = pd.DataFrame({"institution": recs["institution"].astype(str).to_numpy(object),
                              "period": _interval_labels(dates, interval),
                              "outcome": recs["outcome"].to_numpy(float)})
        frame["counted"] = frame["outcome"].notna()
        frame["event"] = frame["outcome"].fillna(0.0)
        parts = []
        for scope, by in (("national", ["period"]), ("institution", ["institution", "period"])):
            g = frame.groupby(by, sort=True).agg(numerator=("event", "sum"), denominator=("counted", "sum"),
                                                 records=("outcome", "size")).reset_index()
            if scope == "national":
                g.insert(0, "institution", "")
            g.insert(0, "scope", scope)
            parts.append(g)
        table = pd.concat(parts, ignore_index=True)
        table["missing"] = (table.pop("records") - table["denominator"]).astype(np.int64)
        table["denominator"] = table["denominator"].astype(np.int64)
        table.insert(0, "indicator", indicator)
        table["care_type"] = care_type
        table["category"] = ""
        with np.errstate(invalid="ignore", divide="ignore"):
            table["value"] = table["numerator"] / table["denominator"].where(table["denominator"] > 0)
        table["window_months"] = pd.array([registry.get(indicator).window_months(s)] * len(table), dtype="Int64")
        table["excluded_window"] = 0
        table["suppressed"] = False
        table["suppressed"] = _control_suppressed(table, s)
        self._control[ckey] = table
        return table

    def _record_expected(self, indicator: str, care_type: str) -> pd.Series | None:
        """Expected events per record of the headline (index of the records frame): the case-mix
        model of each period of the current granularity (the model :meth:`_adjust` fits: all
        institutions, the settings' covariates); None when the indicator has no case-mix model.
        Records of a period without a model (too few records or events) are left out."""
        entry = registry.get(indicator)
        if not entry.casemix or entry.headline != "share":
            return None
        ekey = (self._key(indicator), care_type)
        if ekey not in self._expected:
            self._recomputed = True
            recs = self._control_records(indicator, care_type)
            self._expected[ekey] = _expected_per_record(recs, self.settings)
        return self._expected[ekey]

    def _control_range(self, sel: dict) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        lo, hi = (sel["trend_periods"] + (None, None))[:2]
        if not lo or lo == "-" or not hi:
            return None
        return _period_bounds(lo)[0], _period_bounds(hi)[1]

    def control_view(self) -> dict | None:
        """The data of the control-chart view (None while no institution is chosen in ``control_institution``).

        For the institution of ``control_institution`` and the shown indicator and care type, over
        the periods of the trend range (``trend_periods``), per ``control_interval`` (quarter or
        half-year, by end date of the counted record):

        Returns
        -------
        dict
            - ``institution``, ``indicator``, ``care_type``, ``interval``, ``baseline``
              (``"first_year"`` | ``"all"``);
            - ``points``: DataFrame of the periods **shown** (hidden ones are absent): ``period``
              (``"2023Q1"`` / ``"2023H1"``), ``start``, ``end`` (Timestamps), ``numerator``,
              ``denominator`` (counts), ``p``, ``centre``, ``lcl``, ``ucl`` (fractions), ``outside``
              (bool) from :func:`outcome_analysis.statistics.control.p_chart`; the centre is the
              pooled share of the shown points of the first year that has one (``first_year``) or
              of all shown points (``all``);
            - ``hidden``: list of the periods with records that the disclosure rule hides (never drawn);
            - ``periods``: every period of the range with records, in time order (shown and hidden);
            - ``vlad``: DataFrame ``period``, ``end``, ``observed``, ``expected``, ``vlad``
              (cumulative expected − observed events at the end of each shown period, from the
              first period of the range, over the records of the shown periods: a hidden period's
              records are left out, as a step across it would give its E − O back), or None
              without a case-mix model (or when no shown period has one);
            - ``mark``: the date marked (Timestamp, an action's ``agreed_on`` or the date typed) or None;
            - ``actions``: the actions of the delivery for this institution and indicator (DataFrame).
        """
        return self._control_view

    def current_control_figure(self):
        """The matplotlib ``Figure`` of the control-chart view (p-chart left, VLAD right), or None."""
        return self._control_figure

    def _actions_for(self, institution: str, indicator: str) -> pd.DataFrame:
        a = self.actions
        if a is None or not len(a):
            return pd.DataFrame(columns=["institution", "indicator", "agreed_on", "description"])
        keep = (a["institution"].astype(str) == institution) & (a["indicator"].astype(str) == indicator)
        return a.loc[keep.to_numpy(bool)].sort_values("agreed_on", kind="stable")

    def _sync_control(self) -> None:
        """Offer the actions of the chosen institution and indicator as dates to mark."""
        g, t = self.widgets, self._t
        inst = g["control_institution"].value
        options = [(t["control_no_mark"], "")]
        if inst:
            for r in self._actions_for(inst, g["indicator"].value).itertuples(index=False):
                if pd.notna(r.agreed_on):
                    day = pd.Timestamp(r.agreed_on)
                    text = str(r.description or "")
                    text = text if len(text) <= 50 else text[:49] + "…"
                    options.append((f"{day:%d-%m-%Y} {text}", day.strftime("%Y-%m-%d")))
        with self._hold():
            if list(g["control_mark"].options) != options:
                current = g["control_mark"].value
                g["control_mark"].options = options
                g["control_mark"].value = current if current in [v for _l, v in options] else ""
            g["control_mark"].disabled = len(options) == 1

    def _render_control(self) -> None:
        import html

        g, t = self.widgets, self._t
        sel = self._selection()
        inst = g["control_institution"].value
        self._control_view = None
        self._control_figure = None
        if not inst:
            self.control_figure_widget.layout.display = "none"
            self.control_widget.value = ""
            return
        if sel["row_type"] != "share" or sel["category"]:
            self.control_figure_widget.layout.display = "none"
            self.control_widget.value = str(report.note(t["control_share_only"]))
            return
        view = self._control_data(inst, sel)
        self._control_view = view
        self._draw_control(view, sel)
        self.control_figure_widget.layout.display = None
        self.control_widget.value = "<p class=\"oa-note\">" + html.escape(self._control_alt(view)) + "</p>"

    def _control_data(self, inst: str, sel: dict) -> dict:
        from outcome_analysis.statistics import control

        g = self.widgets
        interval, baseline = g["control_interval"].value, g["control_baseline"].value
        table = self._control_table(sel["indicator"], sel["care_type"], interval)
        rows = table.loc[((table["scope"] == "institution") & (table["institution"] == inst)).to_numpy(bool)]
        bounds = self._control_range(sel)
        starts, ends = zip(*(_period_bounds(p) for p in rows["period"])) if len(rows) else ((), ())
        rows = rows.assign(start=pd.to_datetime(list(starts)), end=pd.to_datetime(list(ends)))
        if bounds is not None:
            rows = rows.loc[((rows["start"] >= bounds[0]) & (rows["end"] <= bounds[1])).to_numpy(bool)]
        rows = rows.sort_values("start", kind="stable")
        hidden_mask = rows["suppressed"].to_numpy(bool) & (rows["denominator"].to_numpy() > 0)
        shown = rows.loc[~rows["suppressed"].to_numpy(bool) & (rows["denominator"].to_numpy() > 0)]
        points = shown[["period", "start", "end", "numerator", "denominator"]].reset_index(drop=True)
        centre = None
        if len(points) and baseline == "first_year":
            first = (points["start"].dt.year == points["start"].dt.year.min()).to_numpy(bool)
            if points.loc[first, "denominator"].sum() > 0:
                centre = float(points.loc[first, "numerator"].sum() / points.loc[first, "denominator"].sum())
        if len(points):
            chart = control.p_chart(points["numerator"].to_numpy(float), points["denominator"].to_numpy(float),
                                    baseline=centre)
            points = pd.concat([points, chart.reset_index(drop=True)], axis=1)
        else:
            points = points.assign(p=[], centre=[], lcl=[], ucl=[], outside=pd.Series([], dtype=bool))
        vlad = None
        expected = self._record_expected(sel["indicator"], sel["care_type"])
        if expected is not None:
            vlad = self._control_vlad(inst, sel, interval, rows, expected)
        mark = None
        if g["control_date"].value is not None:
            mark = pd.Timestamp(g["control_date"].value)
        elif g["control_mark"].value:
            mark = pd.Timestamp(g["control_mark"].value)
        return {"institution": inst, "indicator": sel["indicator"], "care_type": sel["care_type"],
                "interval": interval, "baseline": baseline,
                "points": points, "hidden": rows.loc[hidden_mask, "period"].tolist(),
                "periods": rows.loc[rows["denominator"].to_numpy() > 0, "period"].tolist(), "vlad": vlad,
                "mark": mark, "actions": self._actions_for(inst, sel["indicator"]).reset_index(drop=True)}

    def _control_vlad(self, inst: str, sel: dict, interval: str, rows: pd.DataFrame,
                      expected: pd.Series) -> pd.DataFrame | None:
        """The VLAD at the end of each shown period of ``rows`` (in time order), over the records of
        the shown periods only (a step is one shown period's E − O; hidden periods are left out)."""
        from outcome_analysis.statistics import control

        recs = self._control_records(sel["indicator"], sel["care_type"])
        recs = recs.loc[(recs["institution"].astype(str) == inst).to_numpy(bool) & recs["outcome"].notna().to_numpy()]
        e = expected.reindex(recs.index)
        with_model = e.notna().to_numpy()
        if not with_model.any():
            return None
        recs, e = recs.loc[with_model], e.loc[with_model]
        period = pd.Series(_interval_labels(pd.DatetimeIndex(recs["anchor_date"]), interval), index=recs.index)
        sums = pd.DataFrame({"period": period, "observed": recs["outcome"].astype(float), "expected": e}) \
            .groupby("period").sum()
        out = []
        for r in rows.itertuples(index=False):
            if r.denominator <= 0 or r.suppressed:
                continue  # a hidden period's records are left out: the steps would give its E − O back
            o, x = (float(sums.at[r.period, "observed"]), float(sums.at[r.period, "expected"])) \
                if r.period in sums.index else (0.0, 0.0)
            out.append({"period": r.period, "end": r.end, "observed": o, "expected": x})
        if not out:
            return None
        frame = pd.DataFrame(out)
        frame["vlad"] = control.vlad(frame["observed"].to_numpy(), frame["expected"].to_numpy())
        return frame

    def _control_alt(self, view: dict) -> str:
        """The text alternative of the control charts (what a screen reader and the export say)."""
        t, lang = self._t, self.lang
        pts = view["points"]
        parts = [t["control_alt"].format(institution=view["institution"], n=len(pts),
                                         interval=t["control_" + view["interval"]])]
        if len(pts):
            parts.append(t["control_centre"].format(
                centre=report.fmt_pct(float(pts["centre"].iloc[0]), 1, lang),
                baseline=t["control_baseline_" + view["baseline"]]))
            outside = pts.loc[pts["outside"].to_numpy(bool), "period"].tolist()
            parts.append(t["control_outside"].format(periods=", ".join(outside)) if outside
                         else t["control_inside"])
        if view["hidden"]:
            parts.append(t["control_hidden"].format(periods=", ".join(view["hidden"])))
        if view["vlad"] is not None:
            last = view["vlad"].iloc[-1]
            parts.append(t["control_vlad"].format(period=last["period"],
                                                  value=report.fmt_number(float(last["vlad"]), 1, lang)))
        elif registry.get(view["indicator"]).casemix:
            parts.append(t["control_no_vlad"])
        if view["mark"] is not None:
            parts.append(t["control_marked"].format(date=report.fmt_date(view["mark"], lang)))
        return " ".join(parts)

    def _draw_control(self, view: dict, sel: dict) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import FuncFormatter

        t, lang = self._t, self.lang
        fig = Figure(figsize=(11, 3.6))
        FigureCanvasAgg(fig)
        ax_p, ax_v = fig.subplots(1, 2, width_ratios=(1.3, 1))
        fig.subplots_adjust(left=0.07, right=0.985, top=0.82, bottom=0.2, wspace=0.2)
        pts = view["points"]
        if len(pts):
            # every period of the range with records, a hidden one as a gap in the lines (never a value)
            slots = pd.DataFrame({"period": view["periods"]})
            slots["start"], slots["end"] = zip(*(_period_bounds(x) for x in slots["period"]))
            pts = slots.merge(pts.drop(columns=["start", "end"]), on="period", how="left")
            pts["outside"] = pts["outside"].fillna(False).astype(bool)
            mid = pts["start"] + (pts["end"] - pts["start"]) / 2
            span = (slots["start"].min(), slots["end"].max())
            ax_p.step(mid, pts["ucl"], where="mid", color=plots.GREY, lw=1, ls="--", label=t["control_limits"],
                      gid="ucl")
            ax_p.step(mid, pts["lcl"], where="mid", color=plots.GREY, lw=1, ls="--", gid="lcl")
            ax_p.plot(mid, pts["centre"], color=plots.NATIONAL, lw=1.2, label=t["control_centre_line"], gid="centre")
            ax_p.plot(mid, pts["p"], color=plots.MAIN, marker="o", ms=4, lw=1.2, label=view["institution"], gid="p")
            out = pts["outside"].to_numpy(bool)
            if out.any():
                ax_p.plot(mid[out], pts.loc[out, "p"], ls="", marker="o", ms=8, mfc="none", mec=plots.HIGHLIGHT,
                          mew=1.5, label=t["control_outside_label"], gid="outside")
            ax_p.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: report.fmt_pct(v, 0, lang)))
        else:
            ax_p.text(0.5, 0.5, t["no_data"], ha="center", va="center", transform=ax_p.transAxes)
        ax_p.set_title(t["control_p_title"].format(interval=t["control_" + view["interval"]]), loc="left", fontsize=10)
        vl = view["vlad"]
        if vl is not None:
            ax_v.plot(vl["end"], vl["vlad"], color=plots.MAIN, marker=".", lw=1.2, gid="vlad")
            ax_v.axhline(0, color=plots.GREY, lw=0.8)
            ax_v.set_ylabel(t["control_vlad_axis"], fontsize=8)
        else:
            ax_v.text(0.5, 0.5, t["control_no_vlad"], ha="center", va="center", wrap=True, fontsize=8,
                      transform=ax_v.transAxes)
        ax_v.set_title(t["control_vlad_title"], loc="left", fontsize=10)
        if len(pts):
            for ax in (ax_p, ax_v):
                ax.set_xlim(*span)
        if view["mark"] is not None:
            for ax in (ax_p, ax_v):
                ax.axvline(view["mark"], color=plots.HIGHLIGHT, lw=1.2, ls=":", gid="mark")
            ax_p.plot([], [], color=plots.HIGHLIGHT, ls=":", label=t["control_mark_label"])
        import matplotlib.dates as mdates

        for ax in (ax_p, ax_v):  # a tick per year: quarters would crowd the axis
            ax.xaxis.set_major_locator(mdates.YearLocator())
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
            ax.tick_params(axis="x", labelsize=8)
        if len(pts):
            ax_p.legend(loc="best", frameon=False, fontsize=7)
        fig.suptitle(f"{self._title(sel).rsplit(', ', 1)[0]} – {view['institution']}", x=0.01, ha="left", fontsize=10)
        self._control_figure = fig
        buf = _io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        self.control_figure_widget.value = buf.getvalue()

    # ------------------------------------------------------------------------------------------
    # what tests and notebooks read

    def current_table(self) -> pd.DataFrame:
        """The table behind the current view, at full precision (a copy).

        Returns
        -------
        DataFrame
            The pooled row first (``scope == "national"``, ``institution`` = :attr:`pooled_label`:
            "Landelijk" for a delivery declared national, else "Alle instellingen (N)"),
            then one row per institution for the selected indicator, care type, period and
            breakdown: ``indicator``, ``scope``, ``institution``, ``period``, ``care_type``,
            ``category``, ``numerator``, ``denominator``, ``value``, ``ci_low``, ``ci_high``,
            ``missing``, ``excluded_window``, ``window_months``, ``suppressed`` (under the current
            thresholds), ``selected`` (bool: in the institution selection); when adjusted also
            ``n``, ``observed``, ``expected``, ``oe_ratio``, ``oe_ci_low``, ``oe_ci_high``,
            ``adjusted_value`` (from ``casemix.adjust_records``), ``signal`` with its own interval
            ``oe_ci_low`` / ``oe_ci_high`` (the ``adjusted`` verdict of the comparisons table,
            :func:`outcome_analysis.running.comparisons.build`, under the current thresholds).
        """
        return self._view["table"].copy()

    def current_figure(self):
        """The current matplotlib ``Figure`` (funnel left, trend right)."""
        return self._figure

    def summary(self):
        """The case-mix :class:`~outcome_analysis.casemix.ModelSummary` of the view, or None when raw."""
        return self._view.get("summary")

    # ------------------------------------------------------------------------------------------
    # export

    def _stem(self) -> str:
        sel = self._view["selection"]
        parts = [sel["indicator"], sel["care_type"], sel["period"] or "", sel["category"],
                 "oe" if sel["adjusted"] else "", datetime.now().strftime("%Y%m%d-%H%M%S-%f")]
        return report.slugify("-".join(p for p in parts if p), max_length=80, hashed=False, fallback="export")

    def _target(self, fmt: str) -> Path:
        self.export_dir.mkdir(parents=True, exist_ok=True)
        path = self.export_dir / f"{self._stem()}.{fmt}"
        n = 1
        while path.exists():
            path = self.export_dir / f"{self._stem()}-{n}.{fmt}"
            n += 1
        return path

    def export_table(self, fmt: str = "csv") -> Path:
        """Write the current table to ``export_dir`` as CSV or Excel; returns the path.

        The file name is a slug of indicator, care type, period, breakdown, ``oe`` when adjusted and
        a timestamp. What is written is :meth:`export_frame`: only what the screen may show under
        the thresholds in force (suppressed rows kept with their figures empty and a ``reason``,
        stand-alone counts rounded). Every export carries a note generated from those thresholds
        (:func:`outcome_analysis.presentation.published.notes`): an Excel file as its second sheet
        (``toelichting`` / ``notes``; the table is the first sheet, ``tabel`` / ``table``), a CSV
        file as ``<name>-toelichting.txt`` / ``<name>-notes.txt`` beside it, so that the CSV stays a
        plain table. :attr:`last_exported` lists every file written.

        Raises
        ------
        ExplorerError
            For a format other than ``csv`` / ``xlsx``.
        """
        if fmt not in TABLE_FORMATS:
            raise ExplorerError(f"table export format must be one of {TABLE_FORMATS}, got {fmt!r}")
        table = self.export_frame()
        path = self._target(fmt)
        self.last_exported = published.write_table(table, path, self.settings, self.lang, sheet="sheet_table")
        return path

    def export_frame(self) -> pd.DataFrame:
        """The current table as the exports write it: only what the screen may show.

        Rows marked ``suppressed`` (under the current thresholds; read, not decided here) keep their
        keys with every figure empty (value, interval, counts, O, E, O/E and its interval, adjusted
        value, verdict) and a ``reason`` word; on the other rows the counts of a share are exact
        (it passed the two-cell rule), the number of records behind a mean and every stand-alone
        count (distribution cells, ``missing``, ``excluded_window``, the model's ``n`` and
        ``observed``) is empty below ``min_count`` and rounded to multiples of ``round_to``
        (:func:`outcome_analysis.presentation.published.safe_counts`).
        """
        s = self.settings
        table = self.current_table()
        hidden = table["suppressed"].fillna(False).astype(bool).to_numpy()
        kinds = published.row_kinds(table["indicator"], table["category"])
        reason = published.reason_words(table, kinds, s)
        numerator, denominator = published.safe_counts(table["numerator"], table["denominator"], kinds, hidden, s)
        for col in _HIDDEN_ON_EXPORT:
            if col in table:
                table[col] = table[col].astype(object).where(~hidden, None)
        for col in _STAND_ALONE_COUNTS:
            if col in table:
                table[col] = np.where(hidden, np.nan, published.stand_alone_counts(table[col], s))
        table["numerator"] = numerator
        table["denominator"] = denominator
        table["window_months"] = table["window_months"].astype("Float64")
        table.insert(table.columns.get_loc("suppressed") + 1, "reason", reason)
        return table

    def export_figure(self, fmt: str = "png") -> Path:
        """Write the current figure to ``export_dir`` as PNG (200 dpi) or SVG; returns the path.

        Raises
        ------
        ExplorerError
            For a format other than ``png`` / ``svg``.
        """
        if fmt not in FIGURE_FORMATS:
            raise ExplorerError(f"figure export format must be one of {FIGURE_FORMATS}, got {fmt!r}")
        path = self._target(fmt)
        atomic.write_with(path, lambda p: self._figure.savefig(p, format=fmt, dpi=200, bbox_inches="tight"))
        return path

    def _export_clicked(self, kind: str, fmt: str) -> None:
        import html

        try:
            path = self.export_table(fmt) if kind == "table" else self.export_figure(fmt)
        except (OSError, OutcomeAnalysisError) as exc:
            self.export_widget.value = f'<p class="oa-note">{html.escape(str(exc))}</p>'
            return
        if kind == "figure":
            self.last_exported = [path]
        self.export_widget.value = (f'<p class="oa-note">{html.escape(self._t["written"])}: '
                                    f'<code>{html.escape(str(path.resolve()))}</code></p>')

    def __repr__(self) -> str:
        sel = self._view.get("selection", {})
        return (f"Explorer({len(self.data.trajectories):,} trajectories; {sel.get('indicator')}, "
                f"{sel.get('care_type')}, {sel.get('period')}; caches {self.cache_info()})")


# ----------------------------------------------------------------------------------------------
# control charts: module helpers

#: the intervals of the control-chart view's points and the baselines of its centre line.
CONTROL_INTERVALS = ("quarter", "half_year")
CONTROL_BASELINES = ("first_year", "all")

#: labels of the control-chart view; the catalogue (``data/texts/explorer.yaml``) wins where it has the key.


def _interval_labels(dates: pd.DatetimeIndex, interval: str) -> np.ndarray:
    """``"2023Q1"`` (quarter) or ``"2023H1"`` (half_year) per date (object array)."""
    if interval not in CONTROL_INTERVALS:
        raise ExplorerError(f"control interval must be one of {CONTROL_INTERVALS}, got {interval!r}")
    year = dates.year.astype(str).to_numpy(object)
    if interval == "quarter":
        return year + "Q" + dates.quarter.astype(str).to_numpy(object)
    return year + np.where(dates.month.to_numpy() <= 6, "H1", "H2").astype(object)


def _period_bounds(label: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of a period label: ``"2023"``, ``"2023H2"`` or ``"2023Q3"``."""
    text = str(label)
    year = int(text[:4])
    if len(text) == 6 and text[4] == "H":
        first_month = 1 if text[5] == "1" else 7
        start = pd.Timestamp(year, first_month, 1)
        return start, start + pd.offsets.MonthEnd(6)
    if len(text) == 6 and text[4] == "Q":
        start = pd.Timestamp(year, 3 * int(text[5]) - 2, 1)
        return start, start + pd.offsets.MonthEnd(3)
    return pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)


def _control_suppressed(table: pd.DataFrame, settings: Settings) -> np.ndarray:
    """The disclosure rule on a quarter (or half-year) table of every institution and the pooled row.

    :func:`outcome_analysis.indicators.resuppress` (the two-cell rule, a single hidden institution
    beside the pooled figure, twin halves of a year) and, to a fixed point, the quarters' own
    siblings: the half-year and year figures are published elsewhere (the explorer, the reports), so
    within a half-year (two quarters) and within a year, when exactly one period with records is
    hidden, the smallest visible one of the same group is hidden too.
    """
    period = table["period"].astype(str).to_numpy(object)
    groups = [np.array([p[:4] for p in period], dtype=object)]
    if any(p[4:5] == "Q" for p in period):
        groups.insert(0, np.array([p[:4] + ("H1" if p[5:6] in ("1", "2") else "H2") for p in period], dtype=object))
    keys = table["scope"].astype(str).to_numpy(object) + "\x1f" + table["institution"].astype(str).to_numpy(object)
    denominator = table["denominator"].to_numpy(float)
    forced = np.zeros(len(table), bool)
    hidden = forced
    for _ in range(len(table) + 1):
        hidden = indicators.resuppress(table, settings, hidden=forced)["suppressed"].to_numpy(bool)
        more = hidden.copy()
        for parent in groups:
            ids = pd.factorize(keys + "\x1f" + parent)[0]
            shut = more & (denominator > 0)
            count = np.bincount(ids, weights=shut.astype(float), minlength=ids.max() + 1)
            for g in np.flatnonzero(count == 1):  # a loop over the few groups with one hidden period
                members = np.flatnonzero((ids == g) & ~more & (denominator > 0))
                if len(members):
                    more[members[np.argsort(denominator[members], kind="stable")[0]]] = True
        if (more == hidden).all():
            break
        forced = more
    return hidden


def _expected_per_record(records: pd.DataFrame, settings: Settings) -> pd.Series:
    """Expected events per record (index of ``records``) from the case-mix model of each period,
    fitted as :func:`outcome_analysis.statistics.casemix.adjust_records` fits it (all institutions,
    the settings' covariates and the baseline score when the records carry one; a level in which
    every record has the same outcome is left out with E = O); so the sum per institution and
    period is ``adjust_records``' ``expected``. Records of a period without a model (fewer than 50
    records, or fewer than 5 events or non-events) and records without an outcome get NaN."""
    from outcome_analysis.statistics import casemix_model

    out = pd.Series(np.nan, index=records.index, dtype=float)
    frame, covariates = casemix._prepare(records, None, settings, "outcome", "")
    covariates = casemix._use_baseline(frame, covariates, None)
    for _period, group in frame.groupby(frame["period"].astype(str), sort=True):
        y = group["outcome"].to_numpy(float)
        events = float(y.sum())
        if len(y) < 50 or min(events, len(y) - events) < 5:
            continue
        design = casemix_model.Design(group, covariates)
        out.loc[group.index] = casemix_model.fit_beside_constant_levels(design, group, covariates, y)[0]
    return out


def _read_actions(folder: Path, institutions) -> tuple[pd.DataFrame | None, list]:
    """The ``actions*`` files of a delivery folder (:func:`outcome_analysis.contract.actions.read_actions`);
    ``(None, [])`` when the folder has none or the reader is not there."""
    if not folder.is_dir() or not any(folder.glob("actions*")):
        return None, []
    from outcome_analysis.contract.actions import read_actions

    return read_actions(folder, institutions=list(institutions))
