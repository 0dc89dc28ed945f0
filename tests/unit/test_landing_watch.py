import datetime as dt
import os

from keel.landing_watch import LandingPlan, SeenFile, needing_a_run_of_their_own, plan_landing, skip_reason
from keel.settling import SETTLE_SECONDS


def _drop(folder, name, data: bytes):
    path = folder / name
    path.write_bytes(data)
    return path


def test_a_new_file_asks_for_its_day(tmp_path):
    path = _drop(tmp_path, "applications_2026-01-02.csv", b"a\n1\n")
    plan = plan_landing([("applications", path)], {})
    assert [(f.source, f.day, f.replaces) for f in plan.new_files] == [("applications", dt.date(2026, 1, 2), None)]


def test_the_same_file_dropped_again_does_nothing(tmp_path):
    path = _drop(tmp_path, "applications_2026-01-02.csv", b"a\n1\n")
    first = plan_landing([("applications", path)], {})
    # Same bytes, new mtime: the content hash decides.
    _drop(tmp_path, "applications_2026-01-02.csv", b"a\n1\n")
    os.utime(path, ns=(1, 1))
    again = plan_landing([("applications", path)], first.cursor)
    assert again.new_files == []


def test_a_changed_file_for_a_loaded_day_is_a_replacement(tmp_path):
    path = _drop(tmp_path, "applications_2026-01-02.csv", b"a\n1\n")
    first = plan_landing([("applications", path)], {})
    _drop(tmp_path, "applications_2026-01-02.csv", b"a\n1\n2\n")
    second = plan_landing([("applications", path)], first.cursor)
    assert len(second.new_files) == 1
    assert second.new_files[0].replaces == first.new_files[0].sha256


def test_invalid_names_and_future_dates_are_rejected_with_a_reason(tmp_path):
    bad = _drop(tmp_path, "applications_2026-02-30.csv", b"a\n")
    future = _drop(tmp_path, "applications_2099-01-01.csv", b"a\n")
    wrong_folder = _drop(tmp_path, "outcomes_2026-01-01.csv", b"a\n")
    plan = plan_landing([("applications", bad), ("applications", future), ("applications", wrong_folder)], {}, latest_day=dt.date(2026, 11, 22))
    reasons = dict(plan.rejected)
    assert "not a real calendar date" in reasons["applications/applications_2026-02-30.csv"]
    assert "in the future" in reasons["applications/applications_2099-01-01.csv"]
    assert "outcomes file in the applications folder" in reasons["applications/outcomes_2026-01-01.csv"]
    assert plan.new_files == []


def test_a_day_before_the_first_day_is_rejected_and_the_first_day_is_taken(tmp_path):
    before = _drop(tmp_path, "applications_2025-12-10.csv", b"a\n")
    first = _drop(tmp_path, "outcomes_2025-12-11.csv", b"a\n")
    plan = plan_landing([("applications", before), ("outcomes", first)], {}, earliest_day=dt.date(2025, 12, 11))
    assert dict(plan.rejected) == {
        "applications/applications_2025-12-10.csv": "applications_2025-12-10.csv: date 2025-12-10 is before the first day keel decides (2025-12-11)"
    }
    assert [seen.name for seen in plan.new_files] == ["outcomes_2025-12-11.csv"]


def test_files_being_written_are_ignored(tmp_path):
    partial = _drop(tmp_path, ".applications_2026-01-02.csv.partial", b"a\n")
    assert plan_landing([("applications", partial)], {}).new_files == []


def test_a_file_modified_in_the_last_seconds_waits_for_a_later_tick(tmp_path):
    """A copy written in place is read only once it has been still for SETTLE_SECONDS, not half-way."""
    path = _drop(tmp_path, "applications_2026-01-02.csv", b"a\n1\n")
    written = path.stat().st_mtime
    early = plan_landing([("applications", path)], {}, now=written + SETTLE_SECONDS - 1)
    assert early.new_files == [] and early.settling == ["applications/applications_2026-01-02.csv"] and early.cursor == {}
    settled = plan_landing([("applications", path)], early.cursor, now=written + SETTLE_SECONDS)
    assert [f.name for f in settled.new_files] == ["applications_2026-01-02.csv"] and settled.settling == []


def test_a_settling_file_with_a_bad_name_is_rejected_at_once(tmp_path):
    path = _drop(tmp_path, "applications_2026-02-30.csv", b"a\n")
    plan = plan_landing([("applications", path)], {}, now=path.stat().st_mtime)
    assert [key for key, _ in plan.rejected] == ["applications/applications_2026-02-30.csv"] and plan.settling == []



def test_a_days_outcomes_go_in_with_its_applications_run_and_other_days_outcomes_get_their_own():
    def seen(source, day):
        return SeenFile(source, dt.date(2026, 1, day), f"{source}_2026-01-{day:02d}.csv", f"{source}{day}")

    files = [seen("applications", 2), seen("outcomes", 2), seen("outcomes", 1), seen("applications", 3)]
    own, riding_along = needing_a_run_of_their_own(files)
    assert [f.name for f in own] == ["applications_2026-01-02.csv", "outcomes_2026-01-01.csv", "applications_2026-01-03.csv"]
    assert [f.name for f in riding_along] == ["outcomes_2026-01-02.csv"]
    assert needing_a_run_of_their_own([seen("outcomes", 2)]) == ([seen("outcomes", 2)], []), "a day whose applications came earlier"


def _seen(name: str) -> SeenFile:
    source, day = name.split("_")[0], dt.date.fromisoformat(name.split("_")[1][:10])
    return SeenFile(source, day, name, "0" * 64)


def test_a_tick_that_starts_nothing_says_the_files_are_not_new():
    assert skip_reason(LandingPlan(), 24, []) == "no new or changed file among the 24 in landing/applications and landing/outcomes"


def test_a_tick_that_starts_nothing_names_what_waits_what_was_rejected_and_what_was_loaded_already():
    plan = LandingPlan(settling=["applications/applications_2026-01-05.csv"], rejected=[("applications/apps.csv", "not a landing name")])
    loaded = [_seen("applications_2026-01-01.csv"), _seen("outcomes_2026-01-08.csv")]
    assert skip_reason(plan, 30, loaded) == (
        f"waiting for applications/applications_2026-01-05.csv to settle (modified in the last {SETTLE_SECONDS:.0f} s); "
        "moved applications/apps.csv to landing/rejected, each with its reason beside it; "
        "applications/applications_2026-01-01.csv, outcomes/outcomes_2026-01-08.csv already loaded by an earlier run"
    )


def test_a_long_list_of_files_is_cut_to_three_names_and_a_count():
    loaded = [_seen(f"applications_2026-01-{day:02d}.csv") for day in range(1, 11)]
    reason = skip_reason(LandingPlan(), 10, loaded)
    assert reason == (
        "applications/applications_2026-01-01.csv, applications/applications_2026-01-02.csv, "
        "applications/applications_2026-01-03.csv and 7 more already loaded by an earlier run"
    )
