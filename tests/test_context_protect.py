"""The context figures (target group, waiting time, working alliance, kwesties) get the indicator
tables' secondary rules: a single hidden institution cannot be taken back from the pooled figure
minus the visible institutions, in an institution store and across the gemeenten of a jeugdregio."""
from __future__ import annotations

import pytest

from outcome_analysis.indicators import context
from outcome_analysis.settings import Settings
from outcome_analysis.statistics import disclosure


@pytest.fixture(scope="module")
def table(small_demo):
    """Every context figure of the small demo, none hidden (thresholds of 1)."""
    return context.compute_context(small_demo, settings=Settings(min_cell=1, min_denominator=1))


def _rows(frame, indicator, scope="institution", period="2024", care_type="jeugdhulp"):
    return frame[(frame["indicator"] == indicator) & (frame["category"] == "") & (frame["period"] == period)
                 & (frame["care_type"] == care_type) & (frame["scope"] == scope)]


def _one_hidden(table, indicator, institution):
    """``table`` with only ``institution``'s headline of ``indicator`` (any period) hidden."""
    return table.assign(suppressed=table["scope"].eq("institution") & table["institution"].eq(institution)
                        & table["indicator"].eq(indicator) & table["category"].eq(""))


#: thresholds that hide no mean (every unit has at least one record)
LOW = Settings(min_cell=1, min_denominator=1)


def test_a_single_hidden_institution_hides_the_next_smallest_so_the_pooled_mean_gives_nothing_back(table):
    group = _rows(table, "ctx_wachttijd").set_index("institution").sort_values("denominator", kind="stable")
    hidden_one = group.index[len(group) // 2]  # one in the middle: the next smallest is elsewhere
    marked = _one_hidden(table, "ctx_wachttijd", hidden_one)
    before = _rows(marked, "ctx_wachttijd").set_index("institution")["suppressed"]
    # pooled (records x mean) minus the visible institutions' is exactly the hidden one's sum
    pooled = _rows(table, "ctx_wachttijd", scope="national").iloc[0]
    visible = group.loc[~before.reindex(group.index).to_numpy(bool)]
    total = lambda rows: (rows["value"] * rows["denominator"]).sum()  # noqa: E731 (records x mean)
    assert total(pooled.to_frame().T) - total(visible) == pytest.approx(total(group.loc[[hidden_one]]))
    after = _rows(context.protect(marked, LOW), "ctx_wachttijd").set_index("institution")["suppressed"]
    smallest_visible = visible.index[0]
    assert after.sum() == 2 and after[hidden_one] and after[smallest_visible]


def test_protect_only_adds_marks_and_leaves_the_quartiles_alone(small_demo):
    settings = Settings(min_cell=5)
    primary = context.compute_context(small_demo, settings=settings)
    protected = context.protect(primary, settings)
    assert len(protected) == len(primary) and (protected.index == primary.index).all()
    assert not (primary["suppressed"] & ~protected["suppressed"]).any()
    quartiles = primary["category"].str.startswith("quantile:")
    assert quartiles.any() and primary.loc[quartiles, "suppressed"].equals(protected.loc[quartiles, "suppressed"])


def test_the_units_of_a_region_protect_each_other(table):
    group = _rows(table, "ctx_wachttijd").set_index("institution").sort_values("denominator", kind="stable")
    names = list(group.index)
    regions = {name: ("A" if i % 2 == 0 else "B") for i, name in enumerate(names)}
    a = [n for n in names if regions[n] == "A"]
    marked = _one_hidden(table, "ctx_wachttijd", a[-1])  # region A's largest
    after = _rows(context.protect(marked, LOW, regions=regions), "ctx_wachttijd").set_index("institution")["suppressed"]
    # within region A the smallest goes too (the region's figure minus the others would give it back);
    # across all institutions the national rule asks for one more: the smallest visible anywhere
    assert after[a[-1]] and after[a[0]]
    without = _rows(context.protect(marked, LOW), "ctx_wachttijd").set_index("institution")["suppressed"]
    assert without.sum() == 2 and without[names[0]]
    assert after.sum() >= 2 and set(after[after].index) >= {a[-1], a[0]}
