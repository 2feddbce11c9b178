"""The text catalogue (outcome_analysis.texts): every file under data/texts holds the same keys in
Dutch and English, the loader reads each area, and an unknown language is refused in one way, with
one message, from every module that speaks to a reader (each with its own error class)."""
from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import nbformat  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from outcome_analysis import texts  # noqa: E402

AREAS = sorted(p.stem for p in texts.TEXTS_DIR.glob("*.yaml"))
#: the areas moved out of Python dicts into the catalogue; each is keyed by language at the top
#: (report has its further sections beside nl and en).
BY_LANGUAGE = ("report", "plots", "explorer", "batch", "validation", "counted")
UNKNOWN = re.escape("unknown report language 'fr'; use one of ('nl', 'en')")


def test_every_area_is_there():
    assert set(BY_LANGUAGE) <= set(AREAS)


@pytest.mark.parametrize("area", AREAS)
def test_every_text_file_has_the_same_keys_in_both_languages(area):
    assert texts.languages_agree(texts.load(area)) == []


@pytest.mark.parametrize("area", AREAS)
def test_the_loader_reads_each_area(area):
    whole = texts.load(area)
    assert isinstance(whole, dict) and whole
    whole.clear()  # a fresh copy: the next reader is not affected
    assert texts.load(area)


@pytest.mark.parametrize("area", BY_LANGUAGE)
def test_each_area_speaks_both_languages(area):
    for lang in texts.LANGS:
        part = texts.for_lang(area, lang)
        assert isinstance(part, dict) and part


def test_an_unknown_area_is_refused():
    with pytest.raises(texts.LanguageError, match="no text area"):
        texts.load("nope")


def test_report_sections_moved_into_the_catalogue():
    from outcome_analysis import report

    assert report.MISSING_MARK == {"nl": "n.b.", "en": "n/a"}
    assert report.NOT_APPLICABLE_MARK == {"nl": "n.v.t.", "en": "not applicable"}
    assert report.LEVEL_LABELS["nl"]["client_professional"] == "Cliënt en professional"
    assert set(report.LEVEL_LABELS["en"]) == set(report.LEVELS)
    assert report.ui("en", "phrases")["that"] == "That is"


def _refusals(tmp_path):
    """Each entry point asked for French: (name, error class, call)."""
    from outcome_analysis import counted, explorer, export, plots, registry, report, validation
    from outcome_analysis.running.batch import BatchConfigError
    from outcome_analysis.running.batch.options import check_options

    table = pd.DataFrame({"institution": ["A"], "value": [0.5]})
    return [
        ("report", report.ReportError, lambda: report.fmt_number(1.0, lang="fr")),
        ("report.ui", report.ReportError, lambda: report.ui("fr")),
        ("plots", report.ReportError, lambda: plots.caterpillar_plot(table, lang="fr")),
        ("export", export.ExportError, lambda: export.render_html(nbformat.v4.new_notebook(), lang="fr")),
        ("validation", ValueError, lambda: validation.text("error", "fr")),
        ("counted", counted.CountedRecordsError,
         lambda: counted.write_xlsx(pd.DataFrame(), tmp_path / "x.xlsx", lang="fr")),
        ("batch options", BatchConfigError, lambda: check_options(("html",), "fr", "local", 1)),
        ("registry", registry.RegistryError, lambda: registry.label("jh_uitval", "fr")),
        ("explorer", explorer.ExplorerError, lambda: explorer.Explorer(None, lang="fr")),
    ]


def test_an_unknown_language_is_refused_the_same_way_everywhere(tmp_path):
    for _name, error, call in _refusals(tmp_path):
        with pytest.raises(error, match=UNKNOWN):
            call()
    assert not (tmp_path / "x.xlsx").exists()
