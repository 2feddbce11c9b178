"""Settings: defaults of indicators.md, YAML round trip, clear errors for unknown or invalid values."""
from __future__ import annotations

from pathlib import Path

import pytest

from outcome_analysis.settings import DEFAULT, Settings, SettingsError

ROOT = Path(__file__).resolve().parents[1]


def test_example_config_spells_out_exactly_the_defaults():
    assert Settings.from_yaml(ROOT / "config" / "settings.example.yaml") == DEFAULT


def test_every_setting_is_in_the_example_config():
    text = (ROOT / "config" / "settings.example.yaml").read_text()
    missing = [name for name in DEFAULT.to_dict() if f"\n{name}:" not in text]
    assert not missing


def test_yaml_round_trip(tmp_path):
    import yaml

    changed = DEFAULT.replace(window_nieuwe_start=6, min_denominator=20, covariates=("complexity",))
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(changed.to_dict()))
    assert Settings.from_yaml(path) == changed


@pytest.mark.parametrize(
    "values, message",
    [
        ({"window_nieuw_start": 6}, "unknown setting"),
        ({"conf": 95}, "fraction"),
        ({"ci_method": "wald"}, "ci_method"),
        ({"min_count": 0}, "min_count"),
        ({"funnel_limits": [95, 99.8]}, "fractions"),
    ],
    ids=["typo", "conf-as-percent", "unknown-ci", "zero-threshold", "limits-as-percent"],
)
def test_invalid_settings_name_the_problem(values, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_dict(values)


def test_unreadable_file_is_a_settings_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(SettingsError, match="mapping"):
        Settings.from_yaml(path)
    with pytest.raises(SettingsError, match="cannot read"):
        Settings.from_yaml(tmp_path / "missing.yaml")


def test_delivery_scope_is_validated():
    assert DEFAULT.delivery_scope == "delivery"
    assert Settings.from_dict({"delivery_scope": "national"}).delivery_scope == "national"
    with pytest.raises(SettingsError, match="delivery_scope"):
        Settings.from_dict({"delivery_scope": "landelijk"})


def test_a_delivery_brings_its_own_settings_unless_a_config_is_given(tmp_path):
    from outcome_analysis.settings import for_delivery

    delivery = tmp_path / "levering"
    delivery.mkdir()
    (delivery / "trajectories.csv").write_text("trajectory_id\n", encoding="utf-8")
    assert for_delivery(delivery) == (DEFAULT, None)  # no settings.yaml: the defaults
    (delivery / "settings.yaml").write_text("delivery_scope: national\nmin_count: 5\n", encoding="utf-8")
    own = Settings(delivery_scope="national", min_count=5)
    assert for_delivery(delivery) == (own, delivery / "settings.yaml")
    assert for_delivery(delivery / "trajectories.csv") == (own, delivery / "settings.yaml")  # a file: its folder
    config = tmp_path / "mine.yaml"
    config.write_text("min_denominator: 20\n", encoding="utf-8")
    assert for_delivery(delivery, config) == (Settings(min_denominator=20), config)  # --config wins
