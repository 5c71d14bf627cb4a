"""Training history: one row of scalars per epoch, written as JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from typing import Any

from striate.train._io import atomic_write_text, to_jsonable


class History:
    """Per-epoch records, e.g. ``{"epoch": 1, "train_loss": .., "val_accuracy": .., "lr": ..}``.

    Only scalar values go in the CSV; the JSON keeps every field. Both are written atomically.

    Example:
        >>> h = History()
        >>> h.append({"epoch": 1, "train_loss": 0.9})
        >>> h["train_loss"]
        [0.9]
    """

    def __init__(self, records: list[dict[str, Any]] | None = None) -> None:
        self.records: list[dict[str, Any]] = [dict(r) for r in (records or [])]

    def append(self, record: dict[str, Any]) -> None:
        self.records.append(dict(record))

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records)

    def __getitem__(self, key: str) -> list[Any]:
        """All values of one column (``None`` where an epoch lacks it)."""
        return [r.get(key) for r in self.records]

    def columns(self) -> list[str]:
        cols: list[str] = []
        for r in self.records:
            for k, v in r.items():
                if k not in cols and (v is None or isinstance(v, (int, float, str))):
                    cols.append(k)
        return cols

    def last(self) -> dict[str, Any]:
        return dict(self.records[-1]) if self.records else {}

    def to_json(self) -> str:
        return json.dumps(to_jsonable(self.records), indent=2) + "\n"

    def to_csv(self) -> str:
        buf = io.StringIO()
        cols = self.columns()
        w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in self.records:
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in cols})
        return buf.getvalue()

    def save(self, directory: str | os.PathLike, stem: str = "history") -> tuple[str, str]:
        """Write ``<stem>.json`` and ``<stem>.csv`` into ``directory``; returns both paths."""
        d = os.fspath(directory)
        pj, pc = os.path.join(d, stem + ".json"), os.path.join(d, stem + ".csv")
        atomic_write_text(pj, self.to_json())
        atomic_write_text(pc, self.to_csv())
        return pj, pc

    @classmethod
    def load(cls, path: str | os.PathLike) -> History:
        with open(path, encoding="utf-8") as f:
            return cls(json.load(f))

    def state_dict(self) -> dict[str, Any]:
        return {"records": to_jsonable(self.records)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.records = [dict(r) for r in state["records"]]
