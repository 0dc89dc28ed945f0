"""Segment approval rates and the four-fifths rule, checked by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from keel.monitoring import load_monitoring_config, segment_outcomes

CONFIG = load_monitoring_config()  # four_fifths_ratio 0.8, min_rows 50


def _decisions() -> pd.DataFrame:
    # owner: 100 rows, 80 approved; rent: 100 rows, 60 approved (60/80 = 0.75 < 0.8);
    # parents: 60 rows, 45 approved (0.75 / 0.8 = 0.9375); other: 10 rows, all approved (too small to count).
    rows = []
    for home, n, approved in (("owner", 100, 80), ("rent", 100, 60), ("parents", 60, 45), ("other", 10, 10)):
        for i in range(n):
            route = "approve" if i < approved else ("review" if i % 2 else "decline")
            status = None if i % 4 == 0 else ("bad" if i % 5 == 1 else "good")
            rows.append({"home": home, "age": 30, "marital": "married", "job": "fixed", "route": route, "status": status})
    frame = pd.DataFrame(rows)
    frame["status"] = frame["status"].astype("str")
    return frame


def test_four_fifths_by_hand():
    table = segment_outcomes(_decisions(), CONFIG).set_index(["segment_column", "segment_value"])
    home = table.loc["home"]
    assert home.loc["owner", "approval_rate"] == 0.8
    assert home.loc["rent", "approval_ratio_vs_best"] == pytest.approx(0.6 / 0.8)
    assert not home.loc["rent", "four_fifths_ok"]
    assert home.loc["parents", "approval_ratio_vs_best"] == pytest.approx(0.75 / 0.8)
    assert home.loc["parents", "four_fifths_ok"]
    # "other" has the highest rate but only 10 rows: not the yardstick, not judged
    assert pd.isna(home.loc["other", "approval_ratio_vs_best"]) and pd.isna(home.loc["other", "four_fifths_ok"])
    assert home.loc["owner", "review_rate"] + home.loc["owner", "decline_rate"] == pytest.approx(0.2)


def test_bad_rate_uses_labelled_rows_and_age_band_is_derived_from_age():
    decisions = _decisions()
    table = segment_outcomes(decisions, CONFIG).set_index(["segment_column", "segment_value"])
    owner = decisions[decisions["home"] == "owner"]
    labelled = owner[owner["status"].notna()]
    assert table.loc[("home", "owner"), "n_labelled"] == len(labelled)
    assert table.loc[("home", "owner"), "bad_rate"] == pytest.approx((labelled["status"] == "bad").mean())
    assert table.loc[("age_band", "26-35"), "n"] == len(decisions)
    assert table.loc[("age_band", "26-35"), "four_fifths_ok"]


def test_missing_segment_values_form_their_own_segment_and_status_is_optional():
    decisions = _decisions().drop(columns="status")
    decisions.loc[:4, "job"] = None
    table = segment_outcomes(decisions, CONFIG).set_index(["segment_column", "segment_value"])
    assert table.loc[("job", "(missing)"), "n"] == 5
    assert table["n_labelled"].eq(0).all() and table["bad_rate"].isna().all()


def test_a_frame_without_routes_is_refused():
    with pytest.raises(ValueError, match="route"):
        segment_outcomes(_decisions().drop(columns="route"), CONFIG)
