"""``Result``: rows returned by queries, convertible to dicts, pandas and Arrow."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload


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

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> Result: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | Result:
        """Row ``index`` as a dict; a slice (``res[0:2]``) is a ``Result`` of those rows."""
        if isinstance(index, slice):
            return Result(self.columns, self.rows[index])
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
        """A ``pyarrow.Table``. A column whose values Arrow cannot hold in one type (a frontmatter
        key that is a list in one note and text in another) becomes a JSON column: each value as
        its JSON text, ``None`` as null."""
        import pyarrow as pa

        arrays = [_arrow_column([row[i] for row in self.rows]) for i in range(len(self.columns))]
        if not self.rows:
            arrays = [pa.array([], pa.null()) for _ in self.columns]
        return pa.Table.from_arrays(arrays, names=list(self.columns))

    def df(self) -> Any:
        """A ``pandas.DataFrame``."""
        import pandas as pd

        return pd.DataFrame.from_records(self.rows, columns=list(self.columns))


def _arrow_column(values: list[Any]) -> Any:
    import pyarrow as pa

    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        from .index.rows import to_json

        # pyarrow 19+ marks the column as JSON; older versions hold the same text as plain strings.
        kind = pa.json_(pa.string()) if hasattr(pa, "json_") else pa.string()
        return pa.array([None if v is None else to_json(v) for v in values], kind)
