"""The demo population reproduces the national proportions it claims to imitate.

Every expected proportion is computed directly from the generated frame, with its tolerance written
beside it. The targets come from the brief and data/README.md (CBS national figures, rounded);
tolerances allow for the sampling noise of a small demo (scale 0.2, about 20,000 trajectories).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcome_analysis import schema
from outcome_analysis.contract import demo
from outcome_analysis.demo import make_demo, main

SCALE = 0.2
DAY = pd.Timedelta(days=1)


@pytest.fixture(scope="module")
def data():
    return make_demo(seed=0, scale=SCALE)


@pytest.fixture(scope="module")
def t(data):
    return data.trajectories


def ended(t):
    return t[t["end_date"].notna()]


def duration_years(frame):
    return (frame["end_date"] - frame["start_date"]).dt.days / 365.25


def episodes(t, care_types):
    """Chain records of one youth into episodes (indicators.md): a record joins the episode when it
    starts at most 1 day after the latest end so far; a running record keeps the episode open."""
    d = t[t["care_type"].isin(care_types)].sort_values(["client_id", "start_date"])
    end = d["end_date"].fillna(pd.Timestamp("2262-01-01"))
    latest = end.groupby(d["client_id"]).cummax()
    previous = latest.groupby(d["client_id"]).shift()
    new = previous.isna() | (d["start_date"] > previous + DAY)
    number = new.cumsum()
    ep = pd.DataFrame({"client_id": d["client_id"], "start": d["start_date"], "end": end,
                       "n": 1, "number": number}).groupby("number").agg(
        client_id=("client_id", "first"), start=("start", "min"), end=("end", "max"), n=("n", "sum"))
    ep["end"] = ep["end"].where(ep["end"] < pd.Timestamp("2262-01-01"))
    ep["next_start"] = ep.groupby("client_id")["start"].shift(-1)
    return ep


def repeat_share(t, care_types, reference_date, months=12):
    """Share of ended episodes (window passed) followed by a new episode within ``months``."""
    ep = episodes(t, care_types)
    window = pd.DateOffset(months=months)
    counted = ep[ep["end"].notna() & (ep["end"] + window <= reference_date)]
    again = counted["next_start"].notna() & (counted["next_start"] <= counted["end"] + window)
    return again.mean(), len(counted)


# ---------------------------------------------------------------------------
# Form: the contract
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("table", ["trajectories", "goals", "experience"])
def test_every_contract_column_present_with_its_dtype_and_values(data, table):
    frame = getattr(data, table)
    expected = schema.columns(table)
    assert list(frame.columns) == list(expected)
    for name, col in expected.items():
        assert frame[name].dtype == col.dtype, name
        assert frame[name].notna().any(), f"{table}.{name} is empty"


def test_codes_and_ranges_within_the_contract(t, data):
    assert t["trajectory_id"].is_unique
    assert t["municipality"].dropna().str.fullmatch(r"GM\d{4}").all()
    assert t["birth_year"].min() >= schema.BIRTH_YEAR_MIN
    for name in ("threat_start", "threat_end"):
        assert t[name].dropna().between(1, 5).all()
    for name in ("working_alliance", "chain_cooperation"):
        values = t[name].dropna()
        assert values.between(1, 5).all() and (values.round(1) == values).all()
    issues = t["issues"].dropna().str.split(";").explode()
    assert set(issues) <= set(schema.ISSUE_CODES)
    assert data.goals["score"].between(*schema.GAS_SCALE).all()
    assert data.experience["score"].dropna().between(1, 10).all()
    assert set(data.goals["trajectory_id"]) <= set(t["trajectory_id"])
    assert set(data.experience["trajectory_id"]) <= set(t["trajectory_id"])
    assert not data.experience.duplicated(["trajectory_id", "informant"]).any()
    assert not data.goals.duplicated(["trajectory_id", "goal_id"]).any()


def test_end_reason_fits_care_form_everywhere(t):
    e = ended(t)
    fits = [schema.end_reason_fits(f, r) for f, r in zip(e["care_form"], e["end_reason"])]
    assert all(fits)
    running = t[t["end_date"].isna()]
    assert running["end_reason"].isna().all()
    assert e["end_reason"].notna().all()


def test_dates_consistent_and_never_after_the_reference_date(t, data):
    assert data.reference_date == pd.Timestamp("2024-12-31")
    assert (ended(t)["end_date"] >= ended(t)["start_date"]).all()
    for name in ("start_date", "end_date", "registration_date", "first_contact_date"):
        assert (t[name].dropna() <= data.reference_date).all(), name
    assert (t["registration_date"].dropna() <= t.loc[t["registration_date"].notna(), "start_date"]).all()
    assert (t["first_contact_date"].dropna() >= t.loc[t["first_contact_date"].notna(), "start_date"]).all()
    # most start in 2019-2024; some run in from before
    before = (t["start_date"] < "2019-01-01").mean()
    assert 0.0 < before < 0.2                                            # a minority runs in
    assert (t.loc[t["start_date"] < "2019-01-01", "end_date"].fillna(data.reference_date) >= "2019-01-01").all()


def test_registration_and_contact_only_for_their_care_types(t):
    assert t.loc[t["care_type"] != "jeugdhulp", "registration_date"].isna().all()
    assert t.loc[t["care_type"] == "jeugdhulp", "first_contact_date"].isna().all()
    wait = (t["start_date"] - t["registration_date"]).dt.days.dropna()
    assert 20 <= wait.median() <= 60                                      # weeks, some months
    assert (wait > 90).mean() > 0.03


# ---------------------------------------------------------------------------
# Institutions and volume
# ---------------------------------------------------------------------------


def test_institutions(t):
    gis = t.loc[t["care_type"].isin(["jb", "jr"]), "institution"].unique()
    providers = t.loc[t["care_type"] == "jeugdhulp", "institution"].unique()
    assert len(gis) == 12
    assert 30 <= len(providers) <= 40
    assert set(gis).isdisjoint(providers)
    assert any("'" in name and "&" in name for name in providers)
    sizes = t.groupby("institution").size()
    assert sizes.max() > 20 * sizes.min()                                # a few large, many small
    per_year = ended(t).groupby(["institution", ended(t)["end_date"].dt.year]).size()
    assert (per_year < 10 * SCALE).any()                                 # some would be suppressed at scale 1


def test_volume_scales_linearly(t):
    assert 100_000 * SCALE * 0.9 <= len(t) <= 100_000 * SCALE * 1.1      # ~100,000 at scale 1, ±10%
    small = make_demo(seed=0, scale=SCALE / 4).trajectories
    assert len(small) == pytest.approx(len(t) / 4, rel=0.1)


# ---------------------------------------------------------------------------
# Proportions (national CBS figures, see data/README.md)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("date", ["2021-06-30", "2024-12-31"])
def test_ots_share_among_running_jb(t, date):
    date = pd.Timestamp(date)
    jb = t[(t["care_type"] == "jb") & (t["start_date"] <= date) & (t["end_date"].isna() | (t["end_date"] > date))]
    counts = jb["care_form"].value_counts()
    share_ots = counts["ots"] / (counts["ots"] + counts["voogdij"])
    assert share_ots == pytest.approx(2 / 3, abs=0.1)                   # CBS: about two thirds OTS


def test_durations(t):
    e = ended(t)
    assert 2.5 <= duration_years(e[e["care_form"] == "ots"]).mean() <= 3.0     # just under 3 years
    assert duration_years(e[e["care_form"] == "voogdij"]).mean() == pytest.approx(5, abs=1)
    vots = e[e["care_form"] == "vots"]
    assert (vots["end_date"] - vots["start_date"]).dt.days.max() <= 92        # at most 3 months


def test_vots_mostly_followed_by_ots_of_the_same_youth(t):
    vots = ended(t)[ended(t)["care_form"] == "vots"].reset_index()
    ots = t.loc[t["care_form"] == "ots", ["client_id", "start_date"]]
    pairs = vots[["index", "client_id", "end_date"]].merge(ots, on="client_id")
    gap = (pairs["start_date"] - pairs["end_date"]).dt.days
    followed = pairs.loc[gap.between(0, 1), "index"].nunique() / len(vots)
    assert followed >= 0.70                                                   # CBS: mostly (~75%+)


def test_ots_followed_by_voogdij_next_day(t):
    gb = t[(t["care_form"] == "ots") & (t["end_reason"] == "gezagsbeeindiging")]
    voogdij = t.loc[t["care_form"] == "voogdij", ["client_id", "start_date"]]
    pairs = gb[["client_id", "end_date"]].merge(voogdij, on="client_id")
    assert ((pairs["start_date"] - pairs["end_date"]) == DAY).sum() >= 0.9 * len(gb)


def test_jr_mostly_toezicht_en_begeleiding(t):
    jr = t[t["care_type"] == "jr"]
    share = jr["care_form"].isin(["tb_gedwongen", "tb_vrijwillig"]).mean()
    assert share == pytest.approx(0.97, abs=0.02)                        # CBS: about 97% t&b


def test_end_reasons(t):
    e = ended(t)
    ots = e.loc[e["care_form"] == "ots", "end_reason"]
    regular = ots.isin(["volgens_plan", "tussentijdse_opheffing", "niet_verlengd"]).mean()
    assert regular >= 0.5                                                # mostly regular ends
    assert ots.value_counts().index[0] == "volgens_plan"
    voogdij = e.loc[e["care_form"] == "voogdij", "end_reason"]
    assert (voogdij == "meerderjarig").mean() >= 0.5                    # mostly at 18
    assert 0.02 <= (e["end_reason"] == "onbekend").mean() <= 0.05        # a few onbekend
    jh = e.loc[e["care_type"] == "jeugdhulp", "end_reason"]
    uitval = jh.isin(schema.UITVAL_REASONS).mean()
    assert 0.08 <= uitval <= 0.25


def test_meerderjarig_at_the_18th_birthday(t):
    adult = t[(t["care_type"] == "jb") & (t["end_reason"] == "meerderjarig")]
    age = adult["end_date"].dt.year - adult["birth_year"].astype(int)
    assert age.between(18, 18).all()


def test_jeugdhulp_care_forms(t):
    forms = t.loc[t["care_type"] == "jeugdhulp", "care_form"].value_counts(normalize=True)
    assert forms.index[0] == "ambulant" and forms["ambulant"] >= 0.6     # mostly ambulant
    for form in ("daghulp", "pleegzorg", "verblijf"):
        assert 0.02 <= forms[form] <= 0.25


def test_change_of_jeugdhulp_form_starts_the_next_day(t):
    jh = t[t["care_type"] == "jeugdhulp"].sort_values(["client_id", "start_date"])
    nxt = jh.groupby("client_id")[["start_date", "care_form"]].shift(-1)
    step_up = (jh["care_form"] == "ambulant") & (nxt["care_form"] == "verblijf") & (
        nxt["start_date"] - jh["end_date"] == DAY)
    assert step_up.sum() >= 10


def test_ages_fit_the_care_type(t):
    # start year minus birth year is the age at start or one more (a birthday later in the year)
    age = t["start_date"].dt.year - t["birth_year"].astype(int)
    jr = age[t["care_type"] == "jr"]
    assert jr.between(12, 18).mean() >= 0.8 and jr.min() >= 12             # mostly 12-17
    assert age[t["care_type"] == "jb"].between(0, 18).all()
    jh = age[t["care_type"] == "jeugdhulp"]
    assert 0 < (jh >= 19).mean() < 0.05                                   # a few 18+


# ---------------------------------------------------------------------------
# Youths across trajectories
# ---------------------------------------------------------------------------


def test_herhaald_beroep_and_new_start(t, data):
    share, n = repeat_share(t, ["jb", "jr"], data.reference_date)
    assert n > 500 and 0.10 <= share <= 0.20                              # new JB/JR measure within 12 months
    share, n = repeat_share(t, ["jeugdhulp"], data.reference_date)
    assert n > 1000 and 0.15 <= share <= 0.25                             # new jeugdhulp within 12 months


def test_youths_with_care_beside_care_and_transfers(t):
    ep = episodes(t, ["jb", "jr"])
    assert (ep["n"] >= 3).sum() > 50                                       # vOTS -> OTS -> voogdij and more
    assert (t["client_id"].value_counts() >= 3).sum() > 100

    def overlapping(a, b):
        left = t.loc[t["care_type"] == a, ["client_id", "start_date", "end_date"]]
        right = t.loc[t["care_type"] == b, ["client_id", "start_date", "end_date"]]
        pairs = left.merge(right, on="client_id", suffixes=("", "_b"))
        far = pd.Timestamp("2262-01-01")
        return ((pairs["start_date_b"] <= pairs["end_date"].fillna(far))
                & (pairs["start_date"] <= pairs["end_date_b"].fillna(far))).sum()

    assert overlapping("jb", "jeugdhulp") > 100
    assert overlapping("jb", "jr") > 20
    jbjr = t[t["care_type"].isin(["jb", "jr"])].sort_values(["client_id", "start_date"])
    nxt = jbjr.groupby("client_id")[["start_date", "institution", "care_form"]].shift(-1)
    transfer = (nxt["start_date"] - jbjr["end_date"] == DAY) & (nxt["institution"] != jbjr["institution"]) & (
        nxt["care_form"] == jbjr["care_form"])
    assert transfer.sum() > 20


# ---------------------------------------------------------------------------
# Missingness, case-mix and true effects
# ---------------------------------------------------------------------------


def test_missingness_rates(t, data):
    jh = ended(t)[ended(t)["care_type"] == "jeugdhulp"]
    assert 0.25 <= (jh["rom_start"].notna() & jh["rom_end"].notna()).mean() <= 0.40   # ROM pre+post
    answered = ended(t)["trajectory_id"].isin(data.experience["trajectory_id"]).mean()
    assert 0.20 <= answered <= 0.40                                        # experience answers
    with_goals = jh["trajectory_id"].isin(data.goals["trajectory_id"]).mean()
    assert 0.20 <= with_goals <= 0.35                                      # GAS goals
    assert t["sex"].notna().mean() >= 0.98                                # almost always
    for name in ("complexity", "perspective"):
        assert 0.80 <= t[name].notna().mean() <= 0.92                     # 85-90%
    assert 0.2 <= ended(t)["working_alliance"].notna().mean() <= 0.6      # partly
    assert t["issues"].notna().mean() <= 0.25                              # mostly empty
    helped = data.experience["helped"].dropna().mean()
    assert 0.70 <= helped <= 0.80
    informants = data.experience["informant"].value_counts(normalize=True)
    assert informants["professional"] < informants["ouder"]
    goal_informants = data.goals["informant"].value_counts(normalize=True, dropna=False)
    assert goal_informants["gezamenlijk"] >= 0.75


def test_case_mix_drives_outcomes(t):
    jh = ended(t)[ended(t)["care_type"] == "jeugdhulp"]
    uitval = jh["end_reason"].isin(schema.UITVAL_REASONS)
    by_complexity = uitval.groupby(jh["complexity"], observed=True).mean()
    assert by_complexity["complex"] > by_complexity["enkelvoudig"] + 0.03
    realised = jh["goals_realised"].isin(["geheel", "grotendeels"])
    by_perspective = realised[jh["goals_realised"].notna()].groupby(jh["perspective"], observed=True).mean()
    assert by_perspective["onduidelijk"] < by_perspective["thuis"] - 0.05
    # law of initial value: the higher the ROM start, the larger the improvement
    rom = jh[jh["rom_instrument"] == "sdq_total"].dropna(subset=["rom_start", "rom_end"])
    assert np.corrcoef(rom["rom_start"], rom["rom_start"] - rom["rom_end"])[0, 1] > 0.2


def test_true_effects_are_stored_and_case_mix_differs(t, data):
    truth = data.meta["true_effects"]
    assert data.meta["seed"] == 0 and data.meta["scale"] == SCALE
    assert {"institution", "care_type", "effect"} <= set(truth.columns)
    assert set(truth["institution"]) == set(t["institution"])
    assert (truth["effect"].abs() < 0.25).mean() >= 0.7                   # most near 0
    assert (truth["effect"] >= 0.4).any() and (truth["effect"] <= -0.4).any()
    # the largest GI: average effect, heavy case-mix, so its raw figure looks worse
    largest = t.loc[t["care_type"] == "jb", "institution"].value_counts().index[0]
    assert truth.set_index(["institution", "care_type"]).loc[(largest, "jb"), "effect"] == 0
    complex_share = (t["complexity"] == "complex").groupby(t["institution"]).mean()
    assert complex_share[largest] > complex_share.median() + 0.05
    jb = ended(t)[(ended(t)["care_type"] == "jb") & ended(t)["help_accepted"].notna()]
    accepted = (jb["help_accepted"] == "ja").groupby(jb["institution"] == largest).mean()
    assert accepted[True] < accepted[False] - 0.03                      # seeds 0-4: 6-15 points lower


# ---------------------------------------------------------------------------
# Reproducibility and the command line
# ---------------------------------------------------------------------------


def test_same_seed_same_data_other_seed_other_data(data):
    again = make_demo(seed=0, scale=SCALE)
    for table in ("trajectories", "goals", "experience"):
        pd.testing.assert_frame_equal(getattr(again, table), getattr(data, table))
    pd.testing.assert_frame_equal(again.meta["true_effects"], data.meta["true_effects"])
    other = make_demo(seed=1, scale=SCALE)
    assert not other.trajectories.equals(data.trajectories)


def test_bad_arguments():
    with pytest.raises(ValueError, match="scale"):
        make_demo(scale=0)
    with pytest.raises(ValueError, match="last_year"):
        make_demo(first_year=2024, last_year=2020)


def _io_with_write():
    io = pytest.importorskip("outcome_analysis.io")
    if not hasattr(io, "write"):
        pytest.skip("outcome_analysis.io.write is not there yet")
    return io


def test_gemeenten_range_from_a_handful_of_youths_to_thousands_and_dissolved_codes_come_before_their_end():
    from outcome_analysis.contract.mapping import DEMO_MAPPING, read_mapping

    full = make_demo(seed=0, scale=1.0).trajectories
    youths = full.groupby("municipality")["client_id"].nunique()
    in_force = read_mapping(DEMO_MAPPING).in_force("2024-12-31")["municipality"]
    current = youths.reindex(list(in_force), fill_value=0)
    assert current.min() < 10 and current.max() > 5_000  # Schiermonnikoog ... Amsterdam
    assert (current.sort_values().iloc[:4] < 50).all() and (current > 1_000).sum() >= 10
    # a youth's records under a dissolved code started before the reorganisation, and only there
    for old_code, successor, first_day, _ in demo.DISSOLVED:
        old = full[full["municipality"] == old_code]
        assert len(old) > 0 and (old["start_date"] < pd.Timestamp(first_day)).all()
        assert read_mapping(DEMO_MAPPING).successor(old_code, "2024-12-31") == successor


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_cli_writes_files(tmp_path, capsys, fmt):
    _io_with_write()
    out = tmp_path / "new" / "demo"
    assert main(["--out", str(out), "--scale", "0.02", "--seed", "3", "--format", fmt]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert any(name.startswith("trajectories") for name in names)
    assert "demo_truth.csv" in names
    # the gemeente mapping beside the data, the one --for municipality reads without --mapping
    from outcome_analysis.contract.mapping import DEMO_MAPPING, read_mapping

    assert {"gemeenten.csv", "gemeenten.reorganisations.csv"} <= set(names)
    assert (out / "gemeenten.csv").read_bytes() == DEMO_MAPPING.read_bytes()
    assert len(read_mapping(out / "gemeenten.csv").reorganisations) > 0
    assert not [name for name in names if name.startswith(".")]           # no temporary files left
    # the demo declares itself national (its reports say "landelijk") and fictitious (its reports
    # carry the demo mark)
    from outcome_analysis.settings import Settings, for_delivery

    assert Settings.from_yaml(out / "settings.yaml").delivery_scope == "national"
    assert for_delivery(out) == (Settings(delivery_scope="national", demo=True), out / "settings.yaml")
    printed = capsys.readouterr().out
    assert "jeugdhulp" in printed and "institutions" in printed


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_round_trip_write_then_load(tmp_path, fmt):
    io = _io_with_write()
    if not hasattr(io, "load"):
        pytest.skip("outcome_analysis.io.load is not there yet")
    data = make_demo(seed=5, scale=0.02)
    main(["--out", str(tmp_path), "--scale", "0.02", "--seed", "5", "--format", fmt])
    loaded = io.load(tmp_path, reference_date=data.reference_date)
    expected = {"trajectories": data.trajectories, "experience": data.experience,
                # the contract: an empty goal informant is read as gezamenlijk
                "goals": data.goals.assign(informant=data.goals["informant"].fillna("gezamenlijk"))}
    for table, frame in expected.items():
        pd.testing.assert_frame_equal(getattr(loaded, table).reset_index(drop=True),
                                      frame.reset_index(drop=True), check_exact=False)


def test_demo_writes_actions_that_read_back_without_problems(tmp_path):
    from outcome_analysis.contract.actions import ACTION_COLUMNS, read_actions
    from outcome_analysis.indicators import registry

    data = make_demo(seed=0, scale=0.02)
    written = demo.write_demo(data, tmp_path, "parquet")
    assert tmp_path / "actions.csv" in written
    actions, problems = read_actions(tmp_path, institutions=data.institutions)
    assert problems == []
    expected = demo.demo_actions(data)
    pd.testing.assert_frame_equal(actions[list(ACTION_COLUMNS)].sort_values(["institution", "agreed_on"])
                                  .reset_index(drop=True), expected)
    year = data.reference_date.year
    agreed = actions["agreed_on"].dt.year
    assert (agreed == year - 1).sum() >= 4 and (agreed == year).sum() == 1     # a handful in 2023, one in 2024
    assert actions["institution"].nunique() >= 3
    assert actions["description"].str.contains("<script>", regex=False).sum() == 1   # markup, kept as text
    # each action's indicator applies to a care type the institution has in the data
    t = data.trajectories
    for institution, indicator in zip(actions["institution"], actions["indicator"]):
        care_types = set(t.loc[t["institution"] == institution, "care_type"].astype(str))
        assert care_types & set(registry.get(indicator).care_types)
    # the actions are fixed, not drawn: the same for another seed wherever the institution is there
    assert demo.demo_actions(make_demo(seed=1, scale=0.02))["description"].tolist() == expected["description"].tolist()
