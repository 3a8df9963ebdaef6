"""``Result``: rows returned by queries, convertible to dicts, pandas and Arrow."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
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

    def export(self, dest: str | os.PathLike[str], format: str | None = None) -> int:  # noqa: A002
        """Write the rows to ``dest`` as ``"csv"``, ``"jsonl"`` (JSON lines) or ``"parquet"``
        (default: from the file's extension); returns the number of rows. Lists and mappings
        become JSON text in CSV; Parquet keeps them as nested types where every row agrees on
        their shape, else as a JSON column (as ``arrow()`` does)."""
        from .config import in_vault
        from .errors import QueryError

        path = Path(dest)
        named = _format_of(path.suffix.lstrip("."))
        kind = _format_of(format) if format else named
        if kind not in EXPORT_FORMATS:
            raise QueryError(
                f"cannot export to {path.name!r}: format {kind or '(none)'!r} is not one of "
                f"{', '.join(EXPORT_FORMATS)} (give --format or a .csv, .jsonl or .parquet name)"
            )
        real = path.resolve()  # a link named out.csv may lead to a note
        if _format_of(real.suffix.lstrip(".")) != kind and in_vault(real) is not None:
            # A note, or any file the vault reads as one, is never overwritten by an export.
            raise QueryError(
                f"cannot export to {path}: it is in a vault, where an export is written only to a "
                f"file named for its format (.{kind}), never over a note"
            )
        try:
            if kind == "csv":
                self._write_csv(path)
            elif kind == "jsonl":
                with open(path, "w", encoding="utf-8") as out:
                    for record in self:
                        out.write(_json(record) + "\n")
            else:
                import pyarrow.parquet as pq

                pq.write_table(self.arrow(), path)
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


EXPORT_FORMATS = ("csv", "jsonl", "parquet")
_ALIASES = {"json": "jsonl", "ndjson": "jsonl", "pq": "parquet"}


def _format_of(name: str) -> str:
    """The export format a name (a file's extension, or --format) stands for."""
    name = name.lower()
    return _ALIASES.get(name, name)


def _json(value: Any) -> str:
    """Strict JSON text (NaN and infinity become null), as `sql --json` prints."""
    from .index.rows import json_safe, to_json

    return to_json(json_safe(value))


def _arrow_column(values: list[Any]) -> Any:
    import pyarrow as pa

    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        from .index.rows import to_json

        # pyarrow 19+ marks the column as JSON; older versions hold the same text as plain strings.
        kind = pa.json_(pa.string()) if hasattr(pa, "json_") else pa.string()
        return pa.array([None if v is None else to_json(v) for v in values], kind)
