"""Package attributes loaded on first use, so ``import mdstore`` (and its packages) stays fast."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(
    package: str, targets: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``targets`` maps a name to the module that holds
    it, relative to the package (``".records"``), with ``":attribute"`` when it is called otherwise
    there. A loaded value is kept in ``namespace`` (the package's globals), so it loads once."""

    def __getattr__(name: str) -> Any:
        target = targets.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, attribute = target.partition(":")
        value = getattr(importlib.import_module(module, package), attribute or name)
        namespace[name] = value
        return value

    return __getattr__
