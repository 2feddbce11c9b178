"""A worker's warm kernel (outcome_analysis.running.batch.warm): a report made in a kernel that made
another report before is the report a fresh kernel makes.

The batch runs in this process on an executor registered here (the registry of
``executors.EXECUTORS`` is the place to add one), so the test can switch warm kernels off for the
second run. Reports of the shared batch's delivery and results cache (nothing recomputed), HTML only.
"""
from __future__ import annotations

import hashlib
import re

import pytest

from outcome_analysis.running.audit import text_of_html
from outcome_analysis.running.batch import run_batch, worker
from outcome_analysis.running.batch.executors import EXECUTORS

SCHEDULER = "test-in-process"


class InProcess:
    """The jobs one after the other in this process, with the worker function the pools run."""

    def __init__(self, scheduler, jobs, payload):
        self.payload = payload

    def __enter__(self):
        return self

    def run(self, todo):
        for job in todo:
            yield worker.execute_job(job, self.payload)

    def __exit__(self, *exc):
        worker.cleanup_worker([self.payload.key], kernels=False)
        return False


@pytest.fixture
def in_process():
    """The executor registered for the test only (the registry's choices are part of error messages
    other tests read)."""
    EXECUTORS.register(SCHEDULER, InProcess)
    try:
        yield SCHEDULER
    finally:
        EXECUTORS.unregister(SCHEDULER)


def _visible(html: str) -> tuple[str, list[str]]:
    """The report's visible text with the dates taken out, and the hashes of its images."""
    text = text_of_html(html)
    text = re.sub(r"\b\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|"
                  r"december) \d{4}\b", "<datum>", text)
    images = [hashlib.sha256(m.encode()).hexdigest() for m in re.findall(r'src="data:image/[^"]+"', html)]
    return text, images


def test_a_report_from_a_reused_kernel_is_the_report_from_a_fresh_kernel(report_batch, tmp_path, monkeypatch,
                                                                        in_process):
    rb = report_batch
    first, second = rb.institutions["gi"], rb.institutions["jeugdhulp"]  # a GI's report, then a provider's
    common = dict(periods=[rb.unit_period], formats=("html",), edition="full", cache=rb.cache,
                  national_notebook=None, quiet=True, scheduler=SCHEDULER, jobs=1)
    monkeypatch.setattr(worker, "WARM_KERNELS", True)
    warm = run_batch(rb.data, institutions=[first, second], out=tmp_path / "warm", **common)
    reports = {e["institution"]: e for e in warm.manifest["reports"].values()}
    assert {e["status"] for e in reports.values()} == {"made"}
    # both made in one kernel: the later one in a kernel that made a report before it
    assert reports[first]["kernel"]["private_dir"] == reports[second]["kernel"]["private_dir"]
    later = max(reports, key=lambda name: reports[name]["started"])
    monkeypatch.setattr(worker, "WARM_KERNELS", False)
    fresh = run_batch(rb.data, institutions=[later], out=tmp_path / "fresh", **common)
    (entry,) = fresh.manifest["reports"].values()
    assert entry["status"] == "made"
    reused_html = (tmp_path / "warm" / reports[later]["files"]["html"]).read_text(encoding="utf-8")
    fresh_html = (tmp_path / "fresh" / entry["files"]["html"]).read_text(encoding="utf-8")
    reused_text, reused_images = _visible(reused_html)
    fresh_text, fresh_images = _visible(fresh_html)
    assert len(fresh_images) >= 5 and len(fresh_text) > 5000  # a whole report, figures and all
    assert reused_text == fresh_text
    assert reused_images == fresh_images
    assert not worker._WARM  # the batch's kernels ended with it


def test_a_failed_report_ends_its_kernel(monkeypatch):
    """A report that fails leaves nothing for the next one: its kernel is ended, not reused; so is a
    kernel whose namespace reset fails, and one that made its last report."""
    from outcome_analysis.running.batch import warm

    ended = []
    monkeypatch.setattr(warm.WarmKernel, "stop", lambda self: ended.append(self))
    monkeypatch.setattr(warm.WarmKernel, "alive", property(lambda self: True))
    monkeypatch.setattr(warm.WarmKernel, "_run", lambda self, code: None)
    kernel = warm.WarmKernel.__new__(warm.WarmKernel)
    kernel.reports = 0
    assert kernel.done(ok=True) is True and not ended  # reset and kept
    assert kernel.done(ok=False) is False and ended == [kernel]  # a failure ends it
    kernel.reports = warm.MAX_REPORTS - 1
    assert kernel.done(ok=True) is False and ended[-1] is kernel  # the last report a kernel may make

    def reset_fails(self, code):
        raise RuntimeError("kernel set-up failed")

    monkeypatch.setattr(warm.WarmKernel, "_run", reset_fails)
    kernel.reports = 0
    assert kernel.done(ok=True) is False and len(ended) == 3
