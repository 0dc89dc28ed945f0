"""A package's names imported from their modules on first use (PEP 562), so that importing the package stays light.

keel.landing and keel.review re-export names whose modules import pandas;
the sensors and the definitions import these packages for their light parts.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(package: str, module_of: Mapping[str, str], namespace: dict) -> Callable[[str], object]:
    """The package's `__getattr__`: a name of `module_of` is imported from its module once, then kept in `namespace`."""

    def __getattr__(name: str) -> object:
        if name not in module_of:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module_of[name]), name)
        namespace[name] = value
        return value

    return __getattr__
