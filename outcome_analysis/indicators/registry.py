"""The indicator registry: one record per indicator, read from ``data/indicators.yaml``.

The registry is data, not code: ids, Dutch and English names and definitions, the care types an
indicator applies to, its kind, counting unit, period anchor, numerator and denominator, direction,
follow-up window and whether case-mix adjustment applies.  Reports, tables, plots and the methods
section take their labels from here; :mod:`outcome_analysis.indicators` takes the aggregation rules
(``headline`` and ``breakdowns``) from here.

>>> from outcome_analysis import registry
>>> registry.get("jh_uitval").unit
'trajectory'
>>> registry.label("jbjr_herhaald_beroep", lang="en")
'Repeated referral'
>>> "pi10_geen_recidive" in registry.ids(set="prestatie")
True
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType

import yaml

from outcome_analysis import texts
from outcome_analysis.contract import schema
from outcome_analysis.errors import OutcomeAnalysisError, UnknownIndicatorError
from outcome_analysis.settings import Settings

KINDS = ("share", "mean", "distribution", "profile", "context")
UNITS = ("trajectory", "episode", "youth", "answer")
ANCHORS = ("end", "start")
DIRECTIONS = ("higher_better", "lower_better", "none")
HEADLINES = ("share", "mean", None)
BREAKDOWN_TYPES = ("share", "mean", "distribution")
LANGS = texts.LANGS
#: an indicator id inside a text (``jh_tevredenheid``, ``pi04_vermindering_ernst``): replaced by its label
_ID_PATTERN = re.compile(r"\b(?:jh|jb|jr|jbjr|pi\d\d|ctx)_[a-z0-9_]+\b")


class RegistryError(OutcomeAnalysisError, ValueError):
    """The registry file breaks its own schema (the message names the entry and the key), or a label
    was asked in a language outside :data:`LANGS`."""


@dataclass(frozen=True)
class IndicatorSet:
    """An indicator set (basisset JB/JR, harmonised jeugdhulp, prestatie-indicatoren, context)."""

    id: str
    name_nl: str
    name_en: str
    source: str


@dataclass(frozen=True)
class Entry:
    """One indicator of the registry.

    Attributes
    ----------
    id, set, number, name_nl, name_en, definition_nl, definition_en
        Identity and labels.
    care_types : tuple of str
        Care types the indicator applies to (``jeugdhulp``, ``jb``, ``jr``).
    kind : str
        ``share``, ``mean``, ``distribution``, ``profile`` or ``context``.
    unit : str
        Counting unit: ``trajectory``, ``episode``, ``youth`` or ``answer``.
    anchor : str
        ``end`` (counted in the period the unit ended) or ``start``.
    numerator_nl, numerator_en, denominator_nl, denominator_en : str
        What is counted.
    direction : str
        ``higher_better``, ``lower_better`` or ``none``.
    window_setting : str or None
        Name of the :class:`~outcome_analysis.settings.Settings` field holding the follow-up window.
    extra_window_setting : str or None
        A second window reported beside the first (herhaald beroep at 24 months).
    casemix : bool
        Whether case-mix adjusted comparisons apply.
    provisional : bool
        Nationally not yet worked out (``pi10``).
    same_as : str or None
        The indicator this one is computed as (``pi02`` -> ``jh_tevredenheid``).
    headline : str or None
        What the ``category == ""`` row holds: ``share``, ``mean`` or nothing (pure distributions).
    breakdowns : mapping
        Breakdown family -> ``share`` | ``mean`` | ``distribution``; the rows of family ``f`` carry
        categories ``"f:code"``.
    sentence_nl, sentence_en : str or None
        The headline in words, with ``{value}`` (and ``{months}`` for a follow-up window).
    restates : mapping
        Care type -> id of the indicator this one is computed exactly as, for that care type only
        (``pi04`` for jb is ``jb_afname_ontwikkelingsbedreiging``); reports show a pointer.
    """

    id: str
    set: str
    name_nl: str
    name_en: str
    definition_nl: str
    definition_en: str
    care_types: tuple[str, ...]
    kind: str
    unit: str
    anchor: str
    numerator_nl: str
    numerator_en: str
    denominator_nl: str
    denominator_en: str
    direction: str
    window_setting: str | None
    casemix: bool
    headline: str | None
    number: int | None = None
    provisional: bool = False
    same_as: str | None = None
    extra_window_setting: str | None = None
    breakdowns: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    restates: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    sentence_nl: str | None = None
    sentence_en: str | None = None

    def label(self, lang: str = "nl") -> str:
        """The indicator's name in ``lang`` (``nl`` or ``en``)."""
        return getattr(self, f"name_{_lang(lang)}")

    def definition(self, lang: str = "nl") -> str:
        """The short definition in ``lang``, another indicator named by its label in quotes, never
        by its id (``"Als jh_tevredenheid, ..."`` → ``"Als ‘Tevredenheid ...’, ..."``)."""
        text = getattr(self, f"definition_{_lang(lang)}")
        return _ID_PATTERN.sub(lambda m: f"‘{REGISTRY[m.group(0)].label(lang)}’" if m.group(0) in REGISTRY
                               else m.group(0), text)

    def sentence(self, lang: str = "nl", *, settings: Settings) -> str:
        """The headline in words as a template with ``{value}``: the registry's ``sentence_<lang>``
        (``{months}`` filled in from ``settings``: the follow-up window in force), else built from
        numerator and denominator.

        >>> get("jbjr_verloop").sentence(settings=Settings())
        'Bij {value} van de beëindigde episodes was de beëindiging regulier'
        >>> get("jbjr_herhaald_beroep").sentence(settings=Settings())
        'Van de jongeren van wie de maatregel eindigde, kreeg {value} binnen 12 maanden opnieuw een maatregel'
        """
        own = getattr(self, f"sentence_{_lang(lang)}")
        if own:
            months = self.window_months(settings)
            return own.replace("{months}", str(months)) if months else own
        numerator = getattr(self, f"numerator_{lang}").replace("{", "{{").replace("}", "}}")
        denominator = getattr(self, f"denominator_{lang}").replace("{", "{{").replace("}", "}}")
        of = texts.for_lang("registry", lang, error=RegistryError)["of_the"]
        return f"{numerator[:1].upper()}{numerator[1:]}: {{value}} {of} {denominator}"

    def window_months(self, settings: Settings) -> int | None:
        """The follow-up window in months under ``settings`` (``None`` without a window)."""
        return None if self.window_setting is None else int(getattr(settings, self.window_setting))

    def favourable(self, signal: str | None) -> bool | None:
        """Whether ``signal`` is good news for this indicator (:func:`favourable`)."""
        return favourable(self.direction, signal)


def favourable(direction: str | None, signal: str | None) -> bool | None:
    """Whether a difference is good news: the one rule every report, overview and question uses.

    ``signal`` is ``"higher"`` or ``"lower"`` (than the comparator); ``direction`` is a registry
    direction. ``None`` when nothing can be said: no difference (``"within"``, no signal) or an
    indicator without a better direction (``"none"``).

    >>> favourable("higher_better", "higher"), favourable("lower_better", "higher"), favourable("none", "lower")
    (True, False, None)
    """
    if signal not in ("higher", "lower") or direction not in ("higher_better", "lower_better"):
        return None
    return (signal == "higher") == (direction == "higher_better")


_REQUIRED = tuple(f.name for f in dataclasses.fields(Entry) if f.default is dataclasses.MISSING
                  and f.default_factory is dataclasses.MISSING)
_OPTIONAL = tuple(f.name for f in dataclasses.fields(Entry) if f.name not in _REQUIRED)
_SETTINGS_FIELDS = frozenset(f.name for f in dataclasses.fields(Settings))


def _lang(lang: str) -> str:
    return texts.check_lang(lang, RegistryError)


def _check_choice(where: str, key: str, value, allowed) -> None:
    if value not in allowed:
        raise RegistryError(f"{where}: {key}={value!r} is not one of {list(allowed)}")


def _entry(raw, sets: Mapping[str, IndicatorSet], position: int) -> Entry:
    if not isinstance(raw, dict):
        raise RegistryError(f"indicator #{position + 1}: expected a mapping, got {type(raw).__name__}")
    where = f"indicator {raw.get('id', f'#{position + 1}')!r}"
    unknown = sorted(set(raw) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise RegistryError(f"{where}: unknown key(s) {unknown}; known keys are {sorted(_REQUIRED + _OPTIONAL)}")
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise RegistryError(f"{where}: missing field(s) {missing}")
    _check_choice(where, "set", raw["set"], sets)
    _check_choice(where, "kind", raw["kind"], KINDS)
    _check_choice(where, "unit", raw["unit"], UNITS)
    _check_choice(where, "anchor", raw["anchor"], ANCHORS)
    _check_choice(where, "direction", raw["direction"], DIRECTIONS)
    _check_choice(where, "headline", raw["headline"], HEADLINES)
    care_types = raw["care_types"]
    if not isinstance(care_types, list) or not care_types:
        raise RegistryError(f"{where}: care_types must be a non-empty list")
    bad = [c for c in care_types if c not in schema.CARE_TYPES]
    if bad:
        raise RegistryError(f"{where}: unknown care type(s) {bad}; known are {list(schema.CARE_TYPES)}")
    for key in ("window_setting", "extra_window_setting"):
        value = raw.get(key)
        if value is not None and value not in _SETTINGS_FIELDS:
            raise RegistryError(f"{where}: {key}={value!r} is not a Settings field")
    breakdowns = raw.get("breakdowns") or {}
    if not isinstance(breakdowns, dict):
        raise RegistryError(f"{where}: breakdowns must be a mapping family -> type")
    for family, kind in breakdowns.items():
        _check_choice(f"{where}, breakdown {family!r}", "type", kind, BREAKDOWN_TYPES)
    for key in ("casemix", "provisional"):
        if key in raw and not isinstance(raw[key], bool):
            raise RegistryError(f"{where}: {key} must be true or false, got {raw[key]!r}")
    for key in ("sentence_nl", "sentence_en"):
        text = raw.get(key)
        if text is not None and (not isinstance(text, str) or "{value}" not in text):
            raise RegistryError(f"{where}: {key} must be text with {{value}} in it, got {text!r}")
    if ("sentence_nl" in raw) != ("sentence_en" in raw):
        raise RegistryError(f"{where}: give sentence_nl and sentence_en together")
    restates = raw.get("restates") or {}
    if not isinstance(restates, dict):
        raise RegistryError(f"{where}: restates must be a mapping care type -> indicator id")
    bad = [c for c in restates if c not in care_types]
    if bad:
        raise RegistryError(f"{where}: restates names care type(s) {bad} the indicator does not apply to")
    values = dict(raw)
    values["restates"] = MappingProxyType(dict(restates))
    values["care_types"] = tuple(care_types)
    values["breakdowns"] = MappingProxyType(dict(breakdowns))
    return Entry(**values)


def load(text: str | None = None) -> dict[str, Entry]:
    """Read and validate the registry (the packaged YAML unless ``text`` is given).

    Raises
    ------
    RegistryError
        On unknown keys, missing fields, unknown care types, kinds, units, anchors or directions, a
        ``window_setting`` that is not a Settings field, a duplicate id or a dangling ``same_as``.
    """
    if text is None:
        text = resources.files("outcome_analysis").joinpath("data/indicators.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text) or {}
    unknown = sorted(set(raw) - {"sets", "indicators", *_LABEL_SECTIONS})
    if unknown:
        raise RegistryError(f"registry: unknown top-level key(s) {unknown}")
    sets = {}
    for set_id, meta in (raw.get("sets") or {}).items():
        missing = [k for k in ("name_nl", "name_en", "source") if k not in (meta or {})]
        extra = sorted(set(meta or {}) - {"name_nl", "name_en", "source"})
        if missing or extra:
            raise RegistryError(f"set {set_id!r}: missing {missing}, unknown {extra}")
        sets[set_id] = IndicatorSet(id=set_id, **meta)
    entries: dict[str, Entry] = {}
    for i, item in enumerate(raw.get("indicators") or []):
        entry = _entry(item, sets, i)
        if entry.id in entries:
            raise RegistryError(f"indicator {entry.id!r} appears twice")
        entries[entry.id] = entry
    for entry in entries.values():
        if entry.same_as is not None and entry.same_as not in entries:
            raise RegistryError(f"indicator {entry.id!r}: same_as={entry.same_as!r} is not a known id")
        dangling = {c: i for c, i in entry.restates.items() if i not in entries}
        if dangling:
            raise RegistryError(f"indicator {entry.id!r}: restates {dangling} names an unknown id")
    global SETS, LABELS
    SETS = MappingProxyType(sets)
    LABELS = MappingProxyType(_labels(raw))
    return entries


#: the sections of the registry file that hold labels of codes (not indicators).
_LABEL_SECTIONS = ("care_type_labels", "category_families", "categories", "covariates")


def _check_label(where: str, value) -> dict:
    if not isinstance(value, dict) or any(not isinstance(value.get(lang), str) or not value.get(lang)
                                          for lang in LANGS):
        raise RegistryError(f"{where}: a label needs both languages as text ({', '.join(LANGS)}), got {value!r}")
    return value


def _labels(raw: dict) -> dict:
    """The label sections, checked and flattened: ``categories`` become ``"family:code"`` keys."""
    out = {}
    care = raw.get("care_type_labels") or {}
    for code, value in care.items():
        if code not in schema.CARE_TYPES:
            raise RegistryError(f"care_type_labels: unknown care type {code!r}; known are {list(schema.CARE_TYPES)}")
        _check_label(f"care_type_labels.{code}", value)
    out["care_type_labels"] = {k: dict(v) for k, v in care.items()}
    for section in ("category_families", "covariates"):
        out[section] = {k: dict(_check_label(f"{section}.{k}", v)) for k, v in (raw.get(section) or {}).items()}
    flat = {}
    for family, codes in (raw.get("categories") or {}).items():
        if not isinstance(codes, dict):
            raise RegistryError(f"categories.{family}: expected a mapping code -> {{nl, en}}")
        for code, value in codes.items():
            code = "" if code is None else str(code)
            flat[f"{family}:{code}"] = dict(_check_label(f"categories.{family}.{code}", value))
    out["categories"] = flat
    return out


LABELS: Mapping[str, Mapping] = MappingProxyType({})


SETS: Mapping[str, IndicatorSet] = MappingProxyType({})

#: The registry, id -> :class:`Entry`, in the order of the YAML file (read-only).
REGISTRY: Mapping[str, Entry] = MappingProxyType(load())


def get(indicator: str) -> Entry:
    """The registry entry of ``indicator``.

    Raises
    ------
    UnknownIndicatorError
        Naming the id and the known ids.
    """
    try:
        return REGISTRY[indicator]
    except (KeyError, TypeError):
        raise UnknownIndicatorError(
            f"unknown indicator {indicator!r}; known indicators are {', '.join(REGISTRY)}"
        ) from None


def ids(set: str | None = None, care_type: str | None = None, *, context: bool = True) -> list[str]:
    """Indicator ids, in registry order, optionally of one set and/or applying to one care type.

    ``context=False`` leaves out the context/process items.
    """
    if set is not None and set not in SETS:
        raise RegistryError(f"unknown indicator set {set!r}; known sets are {list(SETS)}")
    if care_type is not None and care_type not in schema.CARE_TYPES:
        raise RegistryError(f"unknown care type {care_type!r}; known are {list(schema.CARE_TYPES)}")
    return [
        e.id
        for e in REGISTRY.values()
        if (set is None or e.set == set)
        and (care_type is None or care_type in e.care_types)
        and (context or e.kind != "context")
    ]


def label(indicator: str, lang: str = "nl") -> str:
    """The name of ``indicator`` in ``lang`` (``nl`` default, or ``en``)."""
    return get(indicator).label(lang)


def set_label(set_id: str, lang: str = "nl") -> str:
    """The name of the indicator set ``set_id`` in ``lang`` (``nl`` default, or ``en``).

    >>> set_label("context", "en")
    'Context and process indicators'
    """
    if set_id not in SETS:
        raise RegistryError(f"unknown indicator set {set_id!r}; known sets are {list(SETS)}")
    return getattr(SETS[set_id], f"name_{_lang(lang)}")


def category_label(category: str, lang: str = "nl") -> str:
    """Readable label of a breakdown category ``"family:code"`` (registry ``categories``); an unknown
    code falls back to the code with spaces.

    >>> category_label("end_reason:volgens_plan")
    'volgens plan'
    >>> category_label("transition:vots_ots", lang="en")
    'provisional → supervision order'
    """
    known = LABELS["categories"].get(str(category))
    if known is not None:
        return known[_lang(lang)]
    _lang(lang)
    return str(category).split(":", 1)[-1].replace("_", " ") or str(category)


def family_label(family: str, lang: str = "nl") -> str:
    """Caption of a breakdown family (``end_reason`` → ``Reden van beëindiging``)."""
    known = LABELS["category_families"].get(family)
    return known[_lang(lang)] if known else family.replace("_", " ")


def care_type_label(care_type: str, lang: str = "nl", *, short: bool = False) -> str:
    """``jb`` → ``jeugdbescherming`` (en ``child protection``); ``short=True`` → ``JB``."""
    known = LABELS["care_type_labels"].get(care_type)
    if known is None:
        return care_type
    return known.get("short", care_type) if short else known[_lang(lang)]


def covariate_label(covariate: str, lang: str = "nl") -> str:
    """Label of a case-mix covariate (``perspective`` → ``toekomstperspectief``)."""
    known = LABELS["covariates"].get(covariate)
    return known[_lang(lang)] if known else covariate

