"""The results cache shared by batches: half-written stores of killed runs go, another running
batch's store being written stays; a renamed single-file delivery is another delivery."""
from __future__ import annotations

import subprocess
import sys

from outcome_analysis.running.batch import prepare
from outcome_analysis.running.batch.hashing import hash_path

KEY = "0123456789abcdef"


def test_only_the_leftovers_of_processes_that_ended_are_removed(tmp_path):
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    try:
        cache = tmp_path / "cache"
        another_batch = cache / f".{KEY}.{running.pid}-x1.tmp"  # being written by a batch still running
        killed_run = cache / f".{KEY}.{ended.pid}-x2.tmp"  # its writer is gone
        older_name = cache / f".{KEY}.abcdef.tmp"  # written before names carried the process id
        store = cache / KEY  # a finished store
        users_own = cache / "notes.txt"
        for folder in (another_batch, killed_run, older_name, store):
            (folder / "part").mkdir(parents=True)
        users_own.write_text("mine")
        prepare.remove_leftovers(cache)
        assert another_batch.is_dir() and store.is_dir() and users_own.is_file()
        assert not killed_run.exists() and not older_name.exists()
    finally:
        running.kill()
        running.wait()


def test_a_store_being_written_is_named_after_its_process(tmp_path):
    assert prepare.store_tmp_prefix(KEY) == f".{KEY}.{__import__('os').getpid()}-"
    name = f"{prepare.store_tmp_prefix(KEY)}abc.tmp"
    assert prepare._STORE_TMP.match(name)
    (tmp_path / name).mkdir()
    prepare.remove_leftovers(tmp_path)  # this process's own leftover (it is not writing it now)
    assert not (tmp_path / name).exists()


def test_a_renamed_single_file_delivery_has_another_hash(tmp_path):
    first = tmp_path / "levering-2024.csv"
    first.write_bytes(b"trajectory_id;institution\n1;A\n")
    before = hash_path(first)
    renamed = first.rename(tmp_path / "levering-2024-herzien.csv")
    assert hash_path(renamed) != before
    moved = tmp_path / "elders"
    moved.mkdir()
    copy = moved / renamed.name
    copy.write_bytes(renamed.read_bytes())
    assert hash_path(copy) == hash_path(renamed)  # the same file in another folder: the same delivery
