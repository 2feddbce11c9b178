"""The context every section of the gemeente and jeugdregio report reads: :class:`UnitStory`.

A :class:`UnitStory` is a :class:`~outcome_analysis.presentation.story.Story` whose "institution" is
a unit of unit results (:func:`outcome_analysis.running.units.compute_unit_results`): a gemeente
("Utrecht (GM0344)") or a jeugdregio. It reads the verdicts of the unit kind from the comparisons
table (``unit_kind`` municipality or region), speaks of "deze gemeente" where the institution
report's texts say "deze instelling" (so the institution sections it reuses read right: the
context section, the too-little page, the Kerncijfers' verdict words), calls the pooled figure of a
delivery that is not national "de hele levering", and carries the comparators of a unit report:

- ``region_results``: for a gemeente, the jeugdregio store (its region's figure beside the
  gemeente's); for a jeugdregio, the gemeente store (its gemeenten side by side);
- :attr:`UnitStory.neighbours`: the comparable gemeenten (:mod:`outcome_analysis.running.neighbours`).

Build it with :func:`prepare`; the texts are ``data/texts/municipality.yaml``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from outcome_analysis import texts
from outcome_analysis.presentation import report
from outcome_analysis.presentation.story import Story, StoryError, default_period
from outcome_analysis.running import neighbours as nb
from outcome_analysis.running.units import UNITS, UNKNOWN

#: the statuses that show the too-little page instead of a report.
NOT_OK = ("unknown_institution", "no_ended", "all_suppressed")


def own_texts(lang: str) -> dict:
    """The texts of ``data/texts/municipality.yaml`` in ``lang``."""
    return texts.for_lang("municipality", lang, error=StoryError)


def replace_words(text: str, pairs) -> str:
    """``text`` with each ``(old, new)`` of ``pairs`` replaced, in order.

    >>> replace_words("Deze instelling en alle instellingen", [["Deze instelling", "Deze gemeente"],
    ...                                                      ["alle instellingen", "alle gemeenten"]])
    'Deze gemeente en alle gemeenten'
    """
    for old, new in pairs:
        text = text.replace(old, new)
    return text


@dataclass
class UnitStory(Story):
    """One gemeente's (or jeugdregio's) report in one period; see the module docstring."""

    unit_kind: str = "municipality"
    region_results: object | None = None
    k: int = nb.K

    # -- words ----------------------------------------------------------------------------------
    @property
    def w(self) -> dict:
        """The unit report's own texts (``municipality.yaml``) in the report's language."""
        return self._cached(("unit_words", self.lang), lambda: own_texts(self.lang))

    @property
    def t(self) -> dict:
        """The institution report's texts with the unit's words for "instelling"."""
        def make():
            pairs = self.w["replace"][self.unit_kind]
            return {k: replace_words(v, pairs) if isinstance(v, str) else v for k, v in Story.t.fget(self).items()}
        return self._cached(("unit_texts", self.lang), make)

    @property
    def comparator(self) -> dict:
        """The pooled figure's words: "landelijk" for a national delivery, else "de hele levering"
        (the pooled figure of unit results is the whole delivery's, never "alle gemeenten")."""
        def make():
            words = dict(Story.comparator.fget(self))
            if words["scope"] == "delivery":
                old_label, old_name = words["label"], words["name"]
                words = {k: (v.replace(old_name, self.w["delivery_name"]).replace(old_label, self.w["delivery_label"])
                             if isinstance(v, str) else v) for k, v in words.items()}
                words.update(label=self.w["delivery_label"], name=self.w["delivery_name"])
            pairs = self.w["replace"][self.unit_kind]
            return {k: replace_words(v, pairs) if isinstance(v, str) else v for k, v in words.items()}
        return self._cached(("unit_comparator", self.lang), make)

    # -- the unit's facts -------------------------------------------------------------------------
    @property
    def facts(self) -> dict:
        """``results.meta["units"]`` (empty dict when absent)."""
        return self.results.meta.get("units") or {}

    @property
    def unit_word(self) -> str:
        return self.w["unit_word"][self.unit_kind]

    @property
    def code(self) -> str:
        return str((self.facts.get("codes") or {}).get(self.institution, "") or "")

    @property
    def region(self) -> str:
        """A gemeente's jeugdregio (empty for a jeugdregio or an unmapped unit)."""
        if self.unit_kind != "municipality":
            return ""
        return str((self.facts.get("regions") or {}).get(self.institution, "") or "")

    @property
    def members(self) -> list[str]:
        """A jeugdregio's gemeente units (empty for a gemeente)."""
        if self.unit_kind != "region":
            return []
        return sorted((self.facts.get("regions") or {}).get(self.institution, []) or [])

    @property
    def providers(self) -> list[str]:
        return list((self.facts.get("providers") or {}).get(self.institution, []) or [])

    def provider_figures(self, indicator: str | None = None, care_type: str | None = None,
                         period: str | None = None):
        """The providers' figures for this unit's youths (the store's ``providers`` table,
        :mod:`outcome_analysis.running.unit_providers`): the rows of this unit, optionally of one
        indicator, care type and period; ``suppressed`` marks what must not be printed. Empty for
        a store without them."""
        table = getattr(self.results, "providers", None)
        if table is None or table.empty:
            return table.iloc[0:0] if table is not None else None
        mask = table["unit"].astype(str) == self.institution
        for col, value in (("indicator", indicator), ("care_type", care_type), ("period", period)):
            if value is not None:
                mask &= table[col].astype(str) == str(value)
        return table.loc[mask]

    def provider_verdict(self, provider: str, indicator: str, care_type: str) -> dict | None:
        """A provider's national adjusted verdict (the one its own report shows) for ``indicator`` and
        ``care_type`` in the report period, as a dict (``signal``, ``favourable``, ``period``,
        ``text_key``); ``None`` when the store holds none."""
        table = getattr(self.results, "provider_verdicts", None)
        if table is None or table.empty:
            return None
        rows = table.loc[(table["provider"].astype(str) == provider) & (table["indicator"] == indicator)
                         & (table["care_type"].astype(str) == care_type)]
        return None if rows.empty else rows.iloc[0].to_dict()

    @property
    def neighbours(self) -> list[str]:
        """The comparable gemeenten (a gemeente report only; empty for a jeugdregio)."""
        if self.unit_kind != "municipality":
            return []
        return self._cached(("neighbours", self.k), lambda: nb.neighbours_of(self.results, self.institution,
                                                                              self.period, self.k))

    def neighbours_figure(self, entry, care_type: str, period: str) -> dict:
        """The comparable gemeenten's pooled headline figure (:func:`neighbours.pooled`)."""
        return self._cached(("neighbours_figure", entry.id, care_type, period),
                            lambda: nb.pooled(self.results, self.neighbours, entry.id, care_type, period))

    def region_figure(self, entry, care_type: str, period: str) -> dict | None:
        """A gemeente's jeugdregio's headline figure from the region store (``None`` without it);
        ``hidden`` true when disclosure control hides it."""
        if self.unit_kind != "municipality" or self.region_results is None or not self.region:
            return None
        row = self.region_results.headline(entry.id, care_type, period, "institution", institution=self.region)
        if row is None:
            return {"value": np.nan, "hidden": False, "missing": True}
        row = dict(row)
        return dict(row, hidden=report.figure_hidden(row, self.settings.min_denominator), missing=False)

    def member_figure(self, member: str, entry, care_type: str, period: str) -> dict | None:
        """A jeugdregio's gemeente's headline figure from the gemeente store (``None`` without it)."""
        if self.unit_kind != "region" or self.region_results is None:
            return None
        row = self.region_results.headline(entry.id, care_type, period, "institution", institution=member)
        if row is None:
            return None
        row = dict(row)
        return dict(row, hidden=report.figure_hidden(row, self.settings.min_denominator))

    @property
    def named(self) -> str:
        """"Utrecht (GM0344), jeugdregio Utrecht-West" / "Jeugdregio Twente: 4 gemeenten"."""
        if self.unit_kind == "municipality":
            if not self.region:
                return self.institution
            return self.w["named_municipality"].format(unit=self.institution, region=self.region)
        return self.w["named_region"].format(unit=self.institution, n=report.fmt_int(len(self.members), self.lang))

    @property
    def comparators_text(self) -> str:
        """"de jeugdregio, vergelijkbare gemeenten en landelijk" (what the figures stand beside)."""
        return self.w["comparators_" + self.unit_kind].format(national=self.comparator["name"] or "–")


def default_unit(results, period: str) -> str:
    """The unit with the most ended trajectories in ``period``, never the unknown unit (ties:
    alphabetical; :func:`outcome_analysis.presentation.story.default_institution`); ``""`` when the
    results hold no other unit."""
    from outcome_analysis.presentation.story import default_institution

    if not [u for u in results.institutions if u not in UNKNOWN.values()]:
        return ""
    return default_institution(results, period)


def prepare(results, unit: str = "", period: str = "", lang: str = "nl", *, region_results=None,
            data=None, k: int = nb.K) -> UnitStory:
    """The report of ``unit`` (default: the largest) of unit ``results`` in ``period`` (default: the
    results' report period), with its status as :func:`outcome_analysis.presentation.story.prepare`
    gives it; the unknown unit ("gemeente onbekend") never gets a report (status
    ``unknown_institution``). Never raises for an unknown unit.

    Raises
    ------
    StoryError
        For an unknown language, or results that are not unit results.
    """
    from outcome_analysis.presentation import story as st

    texts.check_lang(lang, StoryError)
    kind = results.meta.get("unit_kind")
    if kind not in UNITS:
        raise StoryError(f"a gemeente or jeugdregio report needs unit results; these are of {kind or 'institutions'}")
    period = str(period or default_period(results))
    unit = str(unit or default_unit(results, period))
    base = st.prepare(results, unit, period, lang, data=data)
    story = UnitStory(results=results, institution=base.institution, period=base.period, lang=lang,
                      care_types=base.care_types, status=base.status, data=data, unit_kind=kind,
                      region_results=region_results, k=k)
    if unit in UNKNOWN.values():
        story.status = "unknown_institution"
    elif story.ok:  # the status again, now with this unit kind's verdicts
        frame = story.headline_frame()
        if frame.empty or frame["suppressed"].all():
            story.status = "all_suppressed"
    return story


def compute_stores(data_path: str, mapping_path: str = "", period: str = ""):
    """The gemeente and jeugdregio results of the delivery at ``data_path`` (a report run alone),
    computed as a batch computes them: under the delivery's settings, for ``period`` (default: the
    latest complete period at the reference date), with the mapping at ``mapping_path`` (default
    the demo mapping), coordinated (:func:`outcome_analysis.running.units.coordinate`).

    Returns
    -------
    (Results, Results, Dataset)
        The gemeente results, the jeugdregio results and the loaded delivery.
    """
    from outcome_analysis.contract import io
    from outcome_analysis.contract.mapping import DEMO_MAPPING, read_mapping
    from outcome_analysis.contract.periods import latest_complete_period, parse_period
    from outcome_analysis.running.units import compute_unit_results, coordinate
    from outcome_analysis.settings import for_delivery

    data = io.load(data_path)
    settings, _source = for_delivery(data_path)
    granularity = parse_period(period)[2] if period else "year"
    period = str(period or latest_complete_period(data.reference_date, granularity))
    mapping = read_mapping(mapping_path or DEMO_MAPPING)
    g = compute_unit_results(data, mapping, "municipality", settings, period=period, granularity=granularity)
    r = compute_unit_results(data, mapping, "region", settings, period=period, granularity=granularity)
    coordinate(g, r, mapping, settings)
    return g, r, data


def build(data_path: str = "", results_path: str = "", region_results_path: str = "", unit_kind: str = "municipality",
          unit: str = "", period: str = "", lang: str = "nl", mapping_path: str = "") -> UnitStory:
    """What the notebook's first code cell calls: the stored results (``results_path``, and the
    other unit kind's store at ``region_results_path``: for a gemeente its jeugdregio store, for a
    jeugdregio its gemeente store), or both computed here (:func:`compute_stores`), and the story.

    Raises
    ------
    StoryError
        For an unknown ``unit_kind`` or language, or a store of another unit kind than ``unit_kind``.
    """
    from outcome_analysis.running.results import Results

    if unit_kind not in UNITS:
        raise StoryError(f"unit_kind must be one of {', '.join(UNITS)}; got {unit_kind!r}")
    texts.check_lang(lang, StoryError)
    data = None
    if results_path:
        results = Results.load(results_path)
        other = Results.load(region_results_path) if region_results_path else None
    else:
        g, r, data = compute_stores(data_path, mapping_path, period)
        results, other = (g, r) if unit_kind == "municipality" else (r, g)
    if results.meta.get("unit_kind") != unit_kind:
        raise StoryError(f"the results at {results_path!r} are of {results.meta.get('unit_kind') or 'institutions'}, "
                         f"not of {unit_kind}")
    if other is not None and other.meta.get("unit_kind") == unit_kind:
        other = None  # the same kind twice: no comparator store
    return prepare(results, unit, period, lang, region_results=other, data=data)


__all__ = ["UnitStory", "prepare", "build", "compute_stores", "default_unit", "own_texts", "replace_words", "NOT_OK"]
