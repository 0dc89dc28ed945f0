"""dbt's behavior flags name the module that built them, found from the frames' globals instead of inspect.stack()."""

import inspect
import sys

from dbt_common.behavior_flags import BehaviorFlagRendered

from resources.dbt_behavior_flags import behavior_flag_sources_from_frames

FLAG = {"name": "keel_test_flag", "default": False, "description": "a flag for the test"}


def _source_of_a_flag_built_here() -> str:
    return BehaviorFlagRendered(FLAG, {})._behavior_change_event.flag_source


def _stack_reads_by_behavior_flags(monkeypatch) -> list[str]:
    reads: list[str] = []
    stack = inspect.stack

    def counted_stack(*args, **kwargs):
        reads.append(sys._getframe(1).f_globals.get("__name__"))
        return stack(*args, **kwargs)

    monkeypatch.setattr(inspect, "stack", counted_stack)
    return reads


def test_the_source_is_the_module_dbt_common_finds_without_reading_the_stack(monkeypatch):
    reads = _stack_reads_by_behavior_flags(monkeypatch)
    found_by_dbt_common = _source_of_a_flag_built_here()
    assert reads == ["dbt_common.behavior_flags"]
    assert found_by_dbt_common == __name__

    with behavior_flag_sources_from_frames():
        assert _source_of_a_flag_built_here() == found_by_dbt_common
    assert reads == ["dbt_common.behavior_flags"], "the stack was read inside the context"


def test_dbt_commons_own_lookup_is_back_afterwards_even_after_an_error(monkeypatch):
    reads = _stack_reads_by_behavior_flags(monkeypatch)
    try:
        with behavior_flag_sources_from_frames():
            raise RuntimeError("dbt failed")
    except RuntimeError:
        pass
    assert _source_of_a_flag_built_here() == __name__
    assert reads == ["dbt_common.behavior_flags"]
