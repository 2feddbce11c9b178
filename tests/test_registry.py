"""Registry: every indicator of docs/indicators.md is one validated record."""
from __future__ import annotations

import pytest
import yaml
from importlib import resources

from outcome_analysis import registry
from outcome_analysis.errors import UnknownIndicatorError
from outcome_analysis.registry import RegistryError

# the ids of docs/indicators.md, sets A, B and C
EXPECTED_IDS = [
    "jbjr_verloop", "jbjr_clientervaring", "jb_afname_ontwikkelingsbedreiging",
    "jr_afname_criminogene_factoren", "jb_acceptatie_hulp", "jbjr_herhaald_beroep",
    "jh_uitval", "jh_tevredenheid", "jh_zonder_hulp_verder", "jh_geen_nieuwe_start",
    "jh_afname_problematiek", "jh_doelrealisatie_gas",
    "pi01_doelrealisatie", "pi02_tevredenheid", "pi03_reden_beeindiging_hulp",
    "pi04_vermindering_ernst", "pi05_geen_nieuw_beroep", "pi06_zwaarte_vervolghulp",
    "pi07_reden_beeindiging_jb", "pi08_geen_nieuwe_maatregel", "pi09_reden_beeindiging_jr",
    "pi10_geen_recidive",
]


def _text() -> str:
    return resources.files("outcome_analysis").joinpath("data/indicators.yaml").read_text(encoding="utf-8")


def test_every_indicator_of_the_catalogue_is_registered():
    assert registry.ids(context=False) == EXPECTED_IDS


@pytest.mark.parametrize("set_id, count", [("basisset_jbjr", 6), ("jeugdhulp_harmonised", 6), ("prestatie", 10)])
def test_sets(set_id, count):
    assert len(registry.ids(set=set_id)) == count
    assert registry.SETS[set_id].source


@pytest.mark.parametrize(
    "indicator, care_types",
    [("pi02_tevredenheid", ("jeugdhulp", "jb", "jr")), ("pi07_reden_beeindiging_jb", ("jb",)),
     ("pi09_reden_beeindiging_jr", ("jr",)), ("pi01_doelrealisatie", ("jeugdhulp",))],
    ids=["pi02-all", "pi07-jb", "pi09-jr", "pi01-jeugdhulp"],
)
def test_applicability_follows_the_prestatie_table(indicator, care_types):
    assert registry.get(indicator).care_types == care_types


def test_ids_by_care_type():
    assert "jh_uitval" not in registry.ids(care_type="jb")
    assert "pi04_vermindering_ernst" in registry.ids(care_type="jb")


@pytest.mark.parametrize(
    "indicator, field, value",
    [("pi02_tevredenheid", "same_as", "jh_tevredenheid"), ("pi05_geen_nieuw_beroep", "same_as", "jh_geen_nieuwe_start"),
     ("pi10_geen_recidive", "provisional", True), ("jbjr_herhaald_beroep", "window_setting", "window_herhaald_beroep"),
     ("jbjr_herhaald_beroep", "extra_window_setting", "window_herhaald_beroep_extra"),
     ("jbjr_herhaald_beroep", "direction", "lower_better"), ("jbjr_herhaald_beroep", "unit", "youth"),
     ("ctx_wachttijd", "anchor", "start"), ("ctx_werkrelatie", "kind", "context")],
)
def test_fields(indicator, field, value):
    assert getattr(registry.get(indicator), field) == value


def test_labels_in_both_languages():
    assert registry.label("jh_uitval") == "Uitval"
    assert registry.label("jh_uitval", lang="en") == "Dropout"
    for entry in registry.REGISTRY.values():
        assert entry.name_nl and entry.name_en and entry.definition_nl and entry.definition_en


def test_unknown_id_names_it_and_the_known_ids():
    with pytest.raises(UnknownIndicatorError, match="'no_such'.*jh_uitval"):
        registry.get("no_such")


def _broken(mutate) -> str:
    raw = yaml.safe_load(_text())
    mutate(raw["indicators"][0])
    return yaml.safe_dump(raw, allow_unicode=True)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda e: e.update(colour="red"), r"unknown key\(s\) \['colour'\]"),
        (lambda e: e.pop("unit"), r"missing field\(s\) \['unit'\]"),
        (lambda e: e.update(care_types=["jb", "zorg"]), r"unknown care type\(s\) \['zorg'\]"),
        (lambda e: e.update(window_setting="window_nonsense"), "not a Settings field"),
        (lambda e: e.update(kind="ratio"), "kind='ratio'"),
        (lambda e: e.update(same_as="nothing"), "same_as='nothing'"),
    ],
    ids=["unknown-key", "missing-field", "unknown-care-type", "bad-window-setting", "bad-kind", "dangling-same-as"],
)
def test_validation_at_load(mutate, message):
    with pytest.raises(RegistryError, match=message):
        registry.load(_broken(mutate))


def test_window_months_from_settings():
    from outcome_analysis.settings import DEFAULT
    assert registry.get("jbjr_herhaald_beroep").window_months(DEFAULT) == 12
    assert registry.get("jh_uitval").window_months(DEFAULT) is None


def test_set_label_names_the_set_in_either_language():
    for set_id, meta in registry.SETS.items():
        assert registry.set_label(set_id, "nl") == meta.name_nl
        assert registry.set_label(set_id, "en") == meta.name_en
    with pytest.raises(registry.RegistryError):
        registry.set_label("context", "fr")
    with pytest.raises(registry.RegistryError):
        registry.set_label("no_such_set", "nl")
