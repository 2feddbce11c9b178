"""Combining the files of a delivery: deliveries ordered by the latest date they contain, a
trajectory delivered twice taken from the latest, conflicts reported, goals and answers checked
against the trajectories they belong to.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from outcome_analysis.errors import DataValidationError, OutcomeAnalysisError, Problem

from . import schema
from .dataset import DATE_COLUMNS, Dataset, latest_date_or_nat
from .parse import add_problem


def order_deliveries(parsed: list[tuple[str, pd.DataFrame]], problems):
    """The trajectories files in delivery order: by the latest date each contains, ties by file name.

    ``parsed`` comes in file-name order. A pair of files whose content order differs from their name
    order, and that share a trajectory_id (so that the order decides which record is kept), gets a
    warning naming both and their latest dates; files of different institutions or periods without a
    common trajectory are not worth a remark. Returns the ordered list, the latest date of each file (by
    name) and each file's rank by its name part after ``trajectories``.
    """
    latest = {name: latest_date_or_nat(frame) for name, frame in parsed}
    order = sorted(range(len(parsed)), key=lambda i: (_sort_date(latest[parsed[i][0]]), i))
    names = [name for name, _ in parsed]
    inverted = [
        (i, j) for i in range(len(names)) for j in range(i + 1, len(names))
        if not pd.isna(latest[names[i]]) and not pd.isna(latest[names[j]]) and latest[names[i]] > latest[names[j]]
    ]
    if inverted:
        shared = _sharing_pairs(parsed)
        for i, j in inverted:
            if (i, j) in shared:
                earlier_name, later_name = names[i], names[j]
                a, b = latest[earlier_name], latest[later_name]
                problems.append(
                    Problem(
                        earlier_name, None, None, None,
                        f"read as the later delivery: its latest date {a:%d-%m-%Y} is after that of {later_name} "
                        f"({b:%d-%m-%Y}), although its name sorts before it; a trajectory_id in both keeps the record "
                        f"of {earlier_name}",
                        severity="warning", kind="delivery_order",
                        params=(("file", earlier_name), ("latest", f"{a:%d-%m-%Y}"),
                                ("other", later_name), ("other_latest", f"{b:%d-%m-%Y}")),
                    )
                )
    ordered = [parsed[i] for i in order]
    ranks: dict[str, int] = {}
    for rank, (name, _) in enumerate(ordered):
        ranks[_delivery_key(name, "trajectories")] = rank
    return ordered, latest, ranks


def _sharing_pairs(parsed: list[tuple[str, pd.DataFrame]]) -> set[tuple[int, int]]:
    """The pairs ``(i, j)``, ``i < j``, of files that have a trajectory_id in common."""
    ids = pd.concat([frame["trajectory_id"] for _, frame in parsed], ignore_index=True)
    codes, _ = pd.factorize(ids, use_na_sentinel=True)
    files = np.repeat(np.arange(len(parsed)), [len(frame) for _, frame in parsed])
    table = pd.DataFrame({"id": codes, "file": files})
    table = table[table["id"] >= 0].drop_duplicates()
    table = table[table["id"].duplicated(keep=False)]
    pairs = table.merge(table, on="id")
    pairs = pairs[pairs["file_x"] < pairs["file_y"]][["file_x", "file_y"]].drop_duplicates()
    return set(zip(pairs["file_x"].tolist(), pairs["file_y"].tolist()))


def _sort_date(date) -> pd.Timestamp:
    return pd.Timestamp.min if pd.isna(date) else date


def _delivery_key(file_name: str, table: str) -> str:
    """The part of a file name after its table prefix, without extension: pairs goals with trajectories."""
    return Path(file_name).stem.lower()[len(table) :]


def order_by_delivery(parsed: list[tuple[str, pd.DataFrame]], table: str, ranks: dict[str, int]):
    """Goals or experience files in the order of the trajectories deliveries they pair with.

    When any file pairs with no delivery, the file-name order (``parsed`` as it comes) is kept.
    """
    keys = [_delivery_key(name, table) for name, _ in parsed]
    if len(parsed) < 2 or not all(key in ranks for key in keys):
        return parsed
    order = sorted(range(len(parsed)), key=lambda i: (ranks[keys[i]], i))
    return [parsed[i] for i in order]


def combine(parsed: list[tuple[str, pd.DataFrame]], table: str, problems, latest: dict | None = None) -> pd.DataFrame:
    """One table from the files' frames (in delivery order): later deliveries replace earlier records."""
    return combine_with_origin(parsed, table, problems, latest)[0]


def combine_with_origin(parsed: list[tuple[str, pd.DataFrame]], table: str, problems,
                        latest: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`combine`, and the file and row each record of the combined table was read from.

    ``parsed`` is ``(file name, frame)`` per file in delivery order, each frame indexed by its row
    position in the file (row number - 2, as the readers give it, gaps where empty rows were
    dropped). Returns ``(table, origin)``: ``origin`` is aligned with ``table`` (same length and
    order, a ``RangeIndex``) with columns ``file`` (``category``, the file name) and ``row``
    (``int64``, 1-based as a spreadsheet shows it: the header is row 1, the first data row 2). A
    record replaced by a later delivery has the later file's row.
    """
    if not parsed:
        return schema.empty_frame(table), _origin(pd.Categorical.from_codes([], categories=[]), [])
    names = [name for name, _ in parsed]
    lengths = [len(f) for _, f in parsed]
    rows = np.concatenate([f.index.to_numpy(dtype=np.int64) + 2 for _, f in parsed])
    order = np.repeat(np.arange(len(parsed)), lengths)
    if len(parsed) == 1:
        frame = parsed[0][1]
    else:
        frame = pd.concat([f for _, f in parsed], ignore_index=True)
        ids = frame["trajectory_id"]
        if table == "trajectories":
            keep = ~ids.duplicated(keep="last").to_numpy()
            if latest is not None and not keep.all():
                _check_conflicts(frame, keep, order, rows, names, latest, problems)
        else:  # the latest file that has rows of a trajectory holds all its rows
            keep = order == pd.Series(order).groupby(ids.to_numpy(), dropna=False).transform("max").to_numpy()
        n_replaced = int((~keep).sum())
        if n_replaced:
            problems.append(
                Problem(
                    ", ".join(name for name, _ in parsed),
                    None,
                    "trajectory_id",
                    None,
                    f"{n_replaced} {table} record(s) replaced by a later delivery of the same trajectory",
                    severity="warning",
                    kind="records_replaced",
                    params=(("count", n_replaced), ("table", table), ("files", ", ".join(name for name, _ in parsed))),
                )
            )
        frame = frame[keep]
        rows, order = rows[keep], order[keep]
        contract = list(schema.columns(table))
        extras = [c for c in frame.columns if c not in contract]
        frame = frame[contract + extras].astype({c: "string" for c in extras})
    return frame.reset_index(drop=True), _origin(pd.Categorical.from_codes(order, categories=names), rows)


def _origin(files: pd.Categorical, rows) -> pd.DataFrame:
    """The ``file``/``row`` frame of :func:`combine_with_origin`."""
    return pd.DataFrame({"file": files, "row": np.asarray(rows, dtype=np.int64)})


def _check_conflicts(frame, keep, order, rows, names, latest, problems) -> None:
    """Records of one trajectory_id in two deliveries with the same latest date that differ: an error.

    Neither delivery is later than the other, so neither record can be said to replace the other.
    ``frame`` holds the deliveries concatenated in delivery order; ``keep`` marks each id's last record.
    """
    ids = frame["trajectory_id"]
    replaced = np.flatnonzero(~keep & ids.notna().to_numpy())
    if len(replaced) == 0:
        return
    kept = np.flatnonzero(keep & _isin(ids, ids.iloc[replaced]))
    partner = pd.Series(kept, index=ids.iloc[kept].to_numpy()).reindex(ids.iloc[replaced].to_numpy()).to_numpy()
    dates = np.array([_sort_date(latest[name]) for name in names], dtype="datetime64[ns]")
    tie = (order[replaced] != order[partner]) & (dates[order[replaced]] == dates[order[partner]])
    tie &= ~np.array([pd.isna(latest[name]) for name in names])[order[replaced]]
    a, b = replaced[tie], partner[tie]
    if len(a) == 0:
        return
    contract = list(schema.columns("trajectories"))
    differs = np.zeros((len(a), len(contract)), dtype=bool)
    for k, name in enumerate(contract):
        x = frame[name].iloc[a].reset_index(drop=True)
        y = frame[name].iloc[b].reset_index(drop=True)
        same = (x == y).fillna(False).to_numpy(dtype=bool) | (x.isna() & y.isna()).to_numpy(dtype=bool)
        differs[:, k] = ~same
    for i in np.flatnonzero(differs.any(axis=1)):
        trajectory_id = ids.iloc[a[i]]
        other, other_row = names[order[b[i]]], int(rows[b[i]])
        columns = ", ".join(name for k, name in enumerate(contract) if differs[i, k])
        date = f"{latest[other]:%d-%m-%Y}"
        problems.append(
            Problem(
                names[order[a[i]]], int(rows[a[i]]), "trajectory_id", trajectory_id,
                f"one record per trajectory_id in deliveries with the same latest date ({date}); {other} row {other_row} "
                f"holds another record of this trajectory (differing in {columns})",
                trajectory_id=trajectory_id, kind="delivery_conflict",
                params=(("other", other), ("other_row", other_row), ("latest", date), ("columns", columns)),
            )
        )


def check_known_trajectories(parsed: list[tuple[str, pd.DataFrame]], known_ids: pd.Series, problems) -> None:
    """Goals and experience rows must point to a trajectory of the (combined) trajectories table.

    ``known_ids`` are the trajectory ids of the combined table plus those of trajectories files
    rejected for a missing column (their rows are in error already; no second problem per answer).

    One lookup for all files (building the set of a million trajectory ids once).
    """
    if not parsed or len(known_ids) == 0:
        return
    ids = pd.concat([frame["trajectory_id"] for _, frame in parsed], ignore_index=True)
    known = _isin(ids, known_ids) | ids.isna().to_numpy()
    ends = np.cumsum([len(frame) for _, frame in parsed])
    starts = ends - [len(frame) for _, frame in parsed]
    for (file_name, frame), start, end in zip(parsed, starts, ends):
        add_problem(problems, file_name, "trajectory_id", frame["trajectory_id"], ~known[start:end],
                "a trajectory_id of the trajectories table", kind="trajectory_unknown", ids=frame["trajectory_id"])


def _isin(values: pd.Series, allowed: pd.Series) -> np.ndarray:
    """``values.isin(allowed)`` as a boolean array, computed by pyarrow (pandas' isin on Arrow strings loops in Python)."""
    value_array = pa.array(values.astype("string"), from_pandas=True)
    allowed_array = pa.array(allowed.dropna().astype("string"), from_pandas=True)
    return pc.is_in(value_array, value_set=allowed_array).fill_null(False).to_numpy(zero_copy_only=False)
