"""dbt's behavior flags name the module that built them, found from the frames' globals instead of inspect.stack()."""

from dbt_common.behavior_flags import BehaviorFlagRendered

from resources.dbt_behavior_flags import behavior_flag_sources_from_frames

FLAG = {"name": "keel_test_flag", "default": False, "description": "a flag for the test"}


def _source_of_a_flag_built_here() -> str:
    return BehaviorFlagRendered(FLAG, {})._behavior_change_event.flag_source


def test_the_source_is_the_module_dbt_common_finds():
    found_by_dbt_common = _source_of_a_flag_built_here()
    assert found_by_dbt_common == __name__
    with behavior_flag_sources_from_frames():
        assert _source_of_a_flag_built_here() == found_by_dbt_common


def test_the_stack_is_not_read_inside_the_context(stack_reads):
    with behavior_flag_sources_from_frames():
        _source_of_a_flag_built_here()
    assert stack_reads == []


def test_dbt_commons_own_lookup_is_back_afterwards_even_after_an_error(stack_reads):
    try:
        with behavior_flag_sources_from_frames():
            raise RuntimeError("dbt failed")
    except RuntimeError:
        pass
    _source_of_a_flag_built_here()
    assert stack_reads == ["dbt_common.behavior_flags"]
