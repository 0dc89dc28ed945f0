"""The HTML report renders standalone, with the headline first and embedded charts."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from keel.models.seed_features import seed_feature_frame
from keel.monitoring import (
    build_reference_profile,
    daily_summary,
    feature_drift,
    load_monitoring_config,
    performance_by_cohort,
    render_report,
    score_drift,
    segment_outcomes,
    volume_change,
)

CONFIG = load_monitoring_config()


@pytest.fixture(scope="module")
def day_results():
    features = seed_feature_frame()
    reference, today = features.iloc[:3000], features.iloc[3000:3100].copy()
    today["income"] = today["income"] * 0.6
    today.loc[today.index[:30], "job"] = "gig"
    scores_ref = pd.Series(np.linspace(0.02, 0.9, len(reference)))
    scores_today = pd.Series(np.linspace(0.1, 0.95, len(today)))
    profile = build_reference_profile(reference, scores_ref, daily_volume=75.0)
    table = feature_drift(profile, today, CONFIG)
    score_stats = score_drift(profile, scores_today, CONFIG)
    volume = volume_change(profile, len(today), CONFIG)
    scored = features.iloc[:700].assign(
        p_bad=np.linspace(0.05, 0.8, 700), route=np.where(np.arange(700) % 3 == 0, "decline", "approve")
    )
    performance = performance_by_cohort(scored, CONFIG, period="W")
    segments = segment_outcomes(scored, CONFIG)
    history = pd.DataFrame(
        [daily_summary(f"2026-01-0{i}", table, score_stats, volume, CONFIG) for i in range(1, 4)]
    )
    return table, score_stats, volume, performance, segments, history


def test_report_has_headline_alerts_tables_and_embedded_charts(day_results, output_dir):
    table, score_stats, volume, performance, segments, history = day_results
    page = render_report("2026-01-04", table, score_stats, performance, segments, history, volume=volume, config=CONFIG)
    (output_dir / "monitoring_report.html").write_text(page)
    assert page.startswith("<!DOCTYPE html>")
    assert "Dataset drift: no" in page
    assert re.search(r"feature income: psi [\d.]+ &gt;= alert 0.25", page)
    assert "feature job:" in page and "unseen in training" in page
    assert len(re.findall(r'<img alt="[^"]+" src="data:image/svg\+xml;base64,', page)) >= 5
    assert "<table>" in page and "four-fifths" in page.lower()
    assert 'src="http' not in page  # self-contained: nothing fetched from elsewhere


def test_report_is_deterministic_and_works_without_optional_sections(day_results):
    table, score_stats, *_ = day_results
    first = render_report("2026-01-04", table, score_stats, None, None, None, config=CONFIG)
    second = render_report("2026-01-04", table, score_stats, None, None, None, config=CONFIG)
    assert first == second
    assert "History" not in first and "<img" in first


def _chart_texts(page: str) -> dict[str, list[str]]:
    """Each embedded chart's alt text and the text elements of its SVG."""
    charts = {}
    for alt, encoded in re.findall(r'<img alt="([^"]+)" src="data:image/svg\+xml;base64,([^"]+)"', page):
        root = ET.fromstring(base64.b64decode(encoded))
        charts[alt] = ["".join(node.itertext()) for node in root.iter("{http://www.w3.org/2000/svg}text")]
    return charts


def test_each_chart_is_an_svg_with_its_labels_as_text(day_results):
    table, score_stats, volume, performance, segments, history = day_results
    page = render_report("2026-01-04", table, score_stats, performance, segments, history, volume=volume, config=CONFIG)
    texts = _chart_texts(page)
    assert set(texts) == {"PSI per feature", "score distribution, training vs today", "performance by cohort",
                          "approval ratio by segment", "monitoring history"}
    assert "income" in texts["PSI per feature"] and "warn 0.1" in texts["PSI per feature"]
    assert "share drifted" in texts["monitoring history"]


CHART_IN_A_FRESH_PROCESS = """
import hashlib, pandas as pd
from keel.monitoring.report_charts import feature_psi_chart
table = pd.DataFrame({"feature": ["age", "income"], "psi": [0.02, 0.4], "severity": ["ok", "alert"]})
print(hashlib.sha256(feature_psi_chart(table, 0.1, 0.25).encode()).hexdigest())
"""


def test_a_chart_is_byte_identical_in_another_process():
    """SVG clip path ids come from a salt matplotlib draws at random in each process unless one is set."""
    from keel.monitoring.report_charts import feature_psi_chart

    table = pd.DataFrame({"feature": ["age", "income"], "psi": [0.02, 0.4], "severity": ["ok", "alert"]})
    here = hashlib.sha256(feature_psi_chart(table, 0.1, 0.25).encode()).hexdigest()
    there = subprocess.run([sys.executable, "-c", CHART_IN_A_FRESH_PROCESS], capture_output=True, text=True, timeout=120, check=True)
    assert there.stdout.strip() == here


def test_a_drifted_dataset_says_so(day_results):
    table, score_stats, *_ = day_results
    page = render_report("2026-01-04", table.assign(drifted=True, severity="alert"), score_stats, None, None, None, config=CONFIG)
    assert "Dataset drift: yes" in page


def test_the_feature_table_gives_the_verdict_first_and_room_for_the_reasons(day_results):
    table, score_stats, *_ = day_results
    page = render_report("2026-01-04", table, score_stats, None, None, None, config=CONFIG)
    feature_table = page.split("<h2>Feature drift</h2>")[1].split("<h2>")[0]
    headers = re.findall(r"<th[^>]*>([^<]+)</th>", feature_table)
    assert headers[:5] == ["feature", "kind", "severity", "drifted", "reasons"] and "psi" in headers[5:]
    assert '<div class="scroll"><table>' in feature_table, "a wide table scrolls instead of overflowing the page"
    assert re.search(r'<td class="text long">[^<]*unseen in training', feature_table), "long reasons wrap in a wide cell"
