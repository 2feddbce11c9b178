"""Hashes of inputs for resume: files, folders and JSON-able values."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path


def read_tree(path: Path) -> dict[str, bytes]:
    """Every file under ``path`` (relative POSIX path -> bytes); a single file maps ``""``."""
    path = Path(path)
    if path.is_file():
        return {"": path.read_bytes()}
    if not path.is_dir():
        return {}
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file() and not p.name.startswith(".") and "__pycache__" not in p.parts}


def hash_path(path: Path) -> str:
    """:func:`hash_files` of :func:`read_tree`, one file in memory at a time; a single file under its
    name (a renamed delivery file is another delivery: the messages name the file)."""
    path = Path(path)
    names = {path.name: path} if path.is_file() else {
        p.relative_to(path).as_posix(): p for p in sorted(path.rglob("*"))
        if p.is_file() and not p.name.startswith(".") and "__pycache__" not in p.parts
    } if path.is_dir() else {}
    digest = hashlib.sha256()
    for rel in sorted(names):
        file_digest = hashlib.sha256()
        with open(names[rel], "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                file_digest.update(block)
        digest.update(rel.encode("utf-8") + b"\0" + file_digest.digest())
    return digest.hexdigest()


def hash_files(files: dict[str, bytes] | None) -> str:
    digest = hashlib.sha256()
    for rel in sorted(files or {}):
        digest.update(rel.encode("utf-8") + b"\0" + hashlib.sha256(files[rel]).digest())
    return digest.hexdigest()


def hash_json(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode("utf-8")).hexdigest()
