"""Shared fixtures: a small demo population (about 5,000 trajectories), on disk and in memory, and
its precomputed results. Session-scoped: built once per test process."""
from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")  # in this process only: notebook kernels keep their inline backend

SMALL_SCALE = 0.05
#: the two-cell threshold for the small demo. At 5% of the volume a GI ends a few dozen episodes a
#: year, so at the default 10 every JB/JR share would be a band and the report tests would see no
#: figure at all; the fixtures lower it to 5 (a setting like any other). The rule at its default is
#: tested on hand-made deliveries (test_disclosure, test_indicators, test_privacy_rule).
SMALL_MIN_CELL = 5


@pytest.fixture(scope="session")
def small_demo():
    """The demo population at 5% of the default volume (seed 0), as a Dataset."""
    from outcome_analysis.demo import make_demo

    return make_demo(seed=0, scale=SMALL_SCALE)


@pytest.fixture(scope="session")
def demo_settings():
    """The settings the demo declares: a national delivery (``delivery_scope: national``, as
    ``python -m outcome_analysis.demo`` writes into its ``settings.yaml``), so that its reports say
    "Landelijk", with the small demo's two-cell threshold (:data:`SMALL_MIN_CELL`). Fixtures that
    build demo data in code pass these explicitly."""
    from outcome_analysis.settings import Settings

    return Settings(delivery_scope="national", min_cell=SMALL_MIN_CELL)


@pytest.fixture(scope="session")
def small_demo_path(small_demo, tmp_path_factory):
    """The same population written as the demo writes it: Parquet deliveries and the demo's
    ``settings.yaml`` (a national delivery) into a folder."""
    from outcome_analysis.demo import write_demo

    folder = tmp_path_factory.mktemp("small_demo")
    write_demo(small_demo, folder, "parquet")
    with open(folder / "settings.yaml", "a", encoding="utf-8") as fh:
        fh.write(f"min_cell: {SMALL_MIN_CELL}\n")
    return folder


@pytest.fixture(scope="session")
def small_results(small_demo, demo_settings):
    """compute_results on the small demo for its latest complete year, under the demo's settings
    (declared national)."""
    from outcome_analysis.results import compute_results

    return compute_results(small_demo, demo_settings)


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Batches run by the tests keep their results store in a temporary cache, never in the user's
    ``~/.cache/outcome-workbench`` (the batch's default, ``$XDG_CACHE_HOME``)."""
    import os

    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg_cache"))
    yield
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old


@pytest.fixture(scope="session")
def report_batch(small_demo, tmp_path_factory):
    """The suite's shared report batch (``tests/report_batch.py``): HTML and PDF, full and short
    edition, of a GI, a jeugdhulp provider, the smallest institution, and the national overview
    (full only) of the small demo, and the gemeente and jeugdregio reports of the largest and the
    smallest gemeente (``gemeente_large`` in HTML and PDF, ``gemeente_small`` in HTML) and of the
    largest one's jeugdregio (``region``, HTML), made once per test run (shared by the xdist workers).
    ``report_batch.html(role)`` / ``pdf(role)`` are the full edition, ``short_html(role)`` /
    ``short_pdf(role)`` the short one; ``unit_stores``, ``unit_out`` and ``unit_manifest`` the unit
    reports' stores, folder and manifest. Tests must not write into its folders or its cache (copy
    them to a temporary folder first)."""
    from report_batch import build

    base = tmp_path_factory.getbasetemp()
    root = (base.parent if base.name.startswith("popen-gw") else base) / "shared_report_batch"
    return build(root, small_demo)
