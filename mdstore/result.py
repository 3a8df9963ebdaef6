"""``Result``: rows returned by queries, convertible to dicts, pandas and Arrow."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any


class Result:
    """An ordered, materialised set of rows with named columns.

    >>> res = vault.find("status = active")
    >>> res.to_dicts()[0]["path"]; res.df(); res.arrow()
    """

    __slots__ = ("columns", "rows")

    def __init__(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.columns: tuple[str, ...] = tuple(columns)
        self.rows: list[tuple[Any, ...]] = [tuple(r) for r in rows]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self.rows:
            yield dict(zip(self.columns, row, strict=True))

    def __getitem__(self, index: int) -> dict[str, Any]:
        return dict(zip(self.columns, self.rows[index], strict=True))

    def __bool__(self) -> bool:
        return bool(self.rows)

    def __repr__(self) -> str:
        return f"Result({len(self.rows)} rows, columns={list(self.columns)})"

    def to_dicts(self) -> list[dict[str, Any]]:
        return list(self)

    def column(self, name: str) -> list[Any]:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]

    def paths(self) -> list[str]:
        return self.column("path")

    def first(self) -> dict[str, Any] | None:
        return self[0] if self.rows else None

    def arrow(self) -> Any:
        """A ``pyarrow.Table``."""
        import pyarrow as pa

        return (
            pa.Table.from_pylist(self.to_dicts())
            if self.rows
            else pa.table({c: pa.array([], pa.null()) for c in self.columns})
        )

    def df(self) -> Any:
        """A ``pandas.DataFrame``."""
        import pandas as pd

        return pd.DataFrame.from_records(self.rows, columns=list(self.columns))

    def export(self, dest: str | os.PathLike[str], format: str | None = None) -> int:  # noqa: A002
        """Write the rows to ``dest`` as ``"csv"``, ``"jsonl"`` (JSON lines) or ``"parquet"``
        (default: from the file's extension); returns the number of rows. Lists and mappings
        become JSON text in CSV; Parquet keeps them as nested types where every row agrees on
        their shape, else as JSON text."""
        from .errors import QueryError

        path = Path(dest)
        kind = (format or path.suffix.lstrip(".")).lower()
        kind = {"json": "jsonl", "ndjson": "jsonl", "pq": "parquet"}.get(kind, kind)
        if kind not in EXPORT_FORMATS:
            raise QueryError(
                f"cannot export to {path.name!r}: format {kind or '(none)'!r} is not one of "
                f"{', '.join(EXPORT_FORMATS)} (give --format or a .csv, .jsonl or .parquet name)"
            )
        try:
            if kind == "csv":
                self._write_csv(path)
            elif kind == "jsonl":
                with open(path, "w", encoding="utf-8") as out:
                    for record in self:
                        out.write(_json(record) + "\n")
            else:
                self._write_parquet(path)
        except OSError as exc:
            raise QueryError(f"cannot write {path}: {exc.strerror or exc}") from exc
        return len(self.rows)

    def _write_csv(self, path: Path) -> None:
        import csv

        with open(path, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(self.columns)
            for row in self.rows:
                writer.writerow(
                    ["" if v is None else _json(v) if isinstance(v, list | tuple | dict) else v for v in row]
                )

    def _write_parquet(self, path: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = self.arrow()
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            # shapes differ across rows (a key that is a list in one note and text in another)
            nested = [
                i
                for i, _ in enumerate(self.columns)
                if any(isinstance(r[i], list | tuple | dict) for r in self.rows)
            ]
            rows = [
                tuple(_json(v) if i in nested and v is not None else v for i, v in enumerate(r))
                for r in self.rows
            ]
            table = Result(self.columns, rows).arrow()
        pq.write_table(table, path)


EXPORT_FORMATS = ("csv", "jsonl", "parquet")


def _json(value: Any) -> str:
    import json

    from .index.rows import json_default

    return json.dumps(value, default=json_default, ensure_ascii=False)
