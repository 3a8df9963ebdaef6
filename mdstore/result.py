"""``Result``: rows returned by queries, convertible to dicts, pandas and Arrow."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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
