"""Shared fixtures: a small demo population (about 5,000 trajectories), on disk and in memory, and
its precomputed results. Session-scoped: built once per test process."""
from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")  # in this process only: notebook kernels keep their inline backend

SMALL_SCALE = 0.05


@pytest.fixture(scope="session")
def small_demo():
    """The demo population at 5% of the default volume (seed 0), as a Dataset."""
    from outcome_analysis.demo import make_demo

    return make_demo(seed=0, scale=SMALL_SCALE)


@pytest.fixture(scope="session")
def demo_settings():
    """The settings the demo declares: a national delivery (``delivery_scope: national``, as
    ``python -m outcome_analysis.demo`` writes into its ``settings.yaml``), so that its reports say
    "Landelijk". Fixtures that build demo data in code pass these explicitly."""
    from outcome_analysis.settings import Settings

    return Settings(delivery_scope="national")


@pytest.fixture(scope="session")
def small_demo_path(small_demo, tmp_path_factory):
    """The same population written as the demo writes it: Parquet deliveries and the demo's
    ``settings.yaml`` (a national delivery) into a folder."""
    from outcome_analysis.demo import write_demo

    folder = tmp_path_factory.mktemp("small_demo")
    write_demo(small_demo, folder, "parquet")
    return folder


@pytest.fixture(scope="session")
def small_results(small_demo, demo_settings):
    """compute_results on the small demo for its latest complete year, under the demo's settings
    (declared national)."""
    from outcome_analysis.results import compute_results

    return compute_results(small_demo, demo_settings)
