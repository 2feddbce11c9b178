"""Deliveries as they really arrive, cut from the small demo: one institution, three, one care type,
with and without the optional tables (goals, experience). Used by ``test_subsets*.py``.

Each subset is a fixed selection of the demo (seed 0, scale 0.05, as ``conftest.small_demo``), written
with :func:`outcome_analysis.io.write` and a ``settings.yaml`` that holds only the small demo's
two-cell threshold (``min_cell``, see ``conftest.SMALL_MIN_CELL``): these deliveries are not declared
national, so their reports compare with "alle instellingen in deze levering (N)", or with nothing
when they hold one institution.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from outcome_analysis import schema
from outcome_analysis.dataset import Dataset

from conftest import SMALL_MIN_CELL

#: a jeugdhulp provider and a GI (JB and JR) with enough ended trajectories in 2024 to show figures.
JH_INSTITUTION = "Jeugdzorg De Wissel"
GI = "Jeugdbescherming Randstad Midden"
THREE = (JH_INSTITUTION, GI, "Opvoedpoli Vlietland")


@dataclass(frozen=True)
class Subset:
    """One delivery: which trajectories (``institutions`` and ``care_types``, empty: all), and whether
    the optional tables go with them."""

    name: str
    institutions: tuple[str, ...] = ()
    care_types: tuple[str, ...] = ()
    optional: bool = True   # goals and experience delivered

    @property
    def id(self) -> str:
        return f"{self.name}-{'full' if self.optional else 'trajectories-only'}"

    def cut(self, demo: Dataset) -> Dataset:
        t = demo.trajectories
        keep = t["institution"].notna()
        if self.institutions:
            keep &= t["institution"].isin(list(self.institutions))
        if self.care_types:
            keep &= t["care_type"].isin(list(self.care_types))
        t = t.loc[keep].reset_index(drop=True)
        ids = t["trajectory_id"]
        goals = demo.goals.loc[demo.goals["trajectory_id"].isin(ids)] if self.optional else schema.empty_frame("goals")
        experience = (demo.experience.loc[demo.experience["trajectory_id"].isin(ids)] if self.optional
                      else schema.empty_frame("experience"))
        return Dataset(t, goals.reset_index(drop=True), experience.reset_index(drop=True),
                       reference_date=demo.reference_date)

    def write(self, demo: Dataset, folder: Path) -> Path:
        from outcome_analysis import io

        folder.mkdir(parents=True, exist_ok=True)
        io.write(self.cut(demo), folder, "parquet")
        # only the small demo's two-cell threshold (conftest.SMALL_MIN_CELL); not declared national
        (folder / "settings.yaml").write_text(f"min_cell: {SMALL_MIN_CELL}\n", encoding="utf-8")
        return folder


#: the five cuts, each with and without goals and experience: ten deliveries. One institution
#: wherever the cut allows it (a GI alone, its JB alone, its JR alone, a jeugdhulp provider alone);
#: three institutions (two jeugdhulp providers and a GI) once.
CUTS = (
    Subset("one-gi", institutions=(GI,)),
    Subset("three", institutions=THREE),
    Subset("jb-only", institutions=(GI,), care_types=("jb",)),
    Subset("jr-only", institutions=(GI,), care_types=("jr",)),
    Subset("jeugdhulp-only", institutions=(JH_INSTITUTION,), care_types=("jeugdhulp",)),
)
SUBSETS = tuple(Subset(c.name, c.institutions, c.care_types, optional) for c in CUTS for optional in (True, False))
