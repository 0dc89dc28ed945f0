"""dbt's behavior flags named for the module that defines them, found without reading the stack's source.

dbt-common names each behavior flag's source (for its "behavior change"
warning) after the first module on the call stack outside its own, found
with `inspect.stack()`, which reads the source lines of every frame; and it
does so for every flag of every adapter built, even for a flag that names
its source. In keel that was ~0.3 s of each forked dbt and ~0.9 s of
dagster-dbt's adapter in the dbt step, whose stack is hundreds of Dagster
frames deep (docs/BENCHMARKS.md, "Profiling"). The same name comes from each
frame's module globals, without reading any file.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

BEHAVIOR_FLAGS_MODULE = "dbt_common.behavior_flags"


def calling_module_name() -> str:
    """The name of the first module on the stack outside dbt-common's behavior flags: what their `_default_source` returns."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__")
        if name and name != BEHAVIOR_FLAGS_MODULE:
            return name
        frame = frame.f_back
    return "Unknown"


@contextmanager
def behavior_flag_sources_from_frames() -> Iterator[None]:
    """While open, dbt-common finds a behavior flag's default source with `calling_module_name`; restored afterwards.

    With a dbt-common that has no `_default_source` to replace, nothing changes.
    """
    try:
        from dbt_common.behavior_flags import BehaviorFlagRendered
    except ImportError:
        yield
        return
    original = BehaviorFlagRendered.__dict__.get("_default_source")
    if original is None:
        yield
        return
    BehaviorFlagRendered._default_source = staticmethod(calling_module_name)
    try:
        yield
    finally:
        BehaviorFlagRendered._default_source = original
