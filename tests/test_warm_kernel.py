"""A worker's warm kernel (outcome_analysis.running.batch.warm): a report made in a kernel that made
another report before is the report a fresh kernel makes.

The fresh report is made in this process on an executor registered here (the registry of
``executors.EXECUTORS`` is the place to add one), with warm kernels switched off, from the shared
batch's delivery and results cache (nothing recomputed), HTML only.
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
    """The shared batch runs on two workers with warm kernels, so some of its reports were made in
    a kernel that had made another report first; one of those, made again in a fresh kernel, shows
    the same text and images."""
    rb = report_batch
    entries = sorted((e for e in rb.manifest["reports"].values() if e["status"] == "made"), key=lambda e: e["started"])
    earlier: set[str] = set()
    reused = []
    for entry in entries:
        kernel = entry["kernel"]["private_dir"]
        if kernel in earlier and entry["kind"] == "institution" and entry.get("edition", "full") == "full":
            reused.append(entry)
        earlier.add(kernel)
    assert reused, "no full report of the shared batch was made in a kernel that had made one before"
    entry = reused[0]
    monkeypatch.setattr(worker, "WARM_KERNELS", False)
    fresh = run_batch(rb.data, institutions=[entry["institution"]], periods=[entry["period"]], formats=("html",),
                      edition="full", cache=rb.cache, national_notebook=None, quiet=True, scheduler=in_process,
                      jobs=1, out=tmp_path / "fresh")
    (made,) = fresh.manifest["reports"].values()
    assert made["status"] == "made"
    assert made["kernel"]["private_dir"] not in earlier  # a kernel of its own
    reused_text, reused_images = _visible((rb.out / entry["files"]["html"]).read_text(encoding="utf-8"))
    fresh_text, fresh_images = _visible((tmp_path / "fresh" / made["files"]["html"]).read_text(encoding="utf-8"))
    assert len(fresh_images) >= 5 and len(fresh_text) > 5000  # a whole report, figures and all
    assert reused_text == fresh_text
    assert reused_images == fresh_images


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
