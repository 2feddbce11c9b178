"""The shared report batch itself: every role made, read back as a reader gets it."""
from __future__ import annotations

from report_batch import ROLES


def test_every_role_is_made_in_html_and_pdf(report_batch):
    assert set(report_batch.files) == set(ROLES)
    for role in ROLES:
        assert report_batch.html(role).lstrip().lower().startswith("<!doctype html")
        assert report_batch.pdf(role).read_bytes()[:5] == b"%PDF-"
    assert report_batch.institutions["smallest"] not in (report_batch.institutions["gi"],
                                                         report_batch.institutions["jeugdhulp"])
