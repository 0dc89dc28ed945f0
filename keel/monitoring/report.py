"""The day's monitoring report: one self-contained HTML page a person can open from anywhere.

Charts are embedded as base64 SVGs and styles are inline, so the file can be
attached to a ticket, stored as run metadata or opened from KEEL_HOME/reports
without a server. The headline answers the on-call question first (did the
data drift, what is alerting) and the tables below give the evidence.
"""

from __future__ import annotations

import datetime as dt
import html
import math

import numpy as np
import pandas as pd

from keel.monitoring import report_charts as charts
from keel.monitoring.config import MonitoringConfig, load_monitoring_config
from keel.monitoring.drift import dataset_drift
from keel.monitoring.severity import ALERT, OK, WARN, Band, severity_rank

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #222; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; }
.headline { padding: 1rem; border-radius: 6px; margin: 1rem 0; }
.headline.ok { background: #e8f5ec; } .headline.warn { background: #fff4d6; } .headline.alert { background: #fde8e6; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #eee; text-align: right; }
th { background: #f5f5f5; } td.text, th.text { text-align: left; }
td.ok { color: #2d6a4f; } td.warn { color: #9a6700; font-weight: 600; } td.alert { color: #b42318; font-weight: 700; }
.muted { color: #777; font-size: .85rem; }
.scroll { overflow-x: auto; } td.long { min-width: 22rem; }
img { max-width: 100%; }
"""


# The feature table's verdict before its evidence: which feature, how bad and
# why, then the statistics (a dozen columns, scrolled sideways on a laptop).
VERDICT_LEAD = ("severity", "drifted", "reasons")
FEATURE_TABLE_LEAD = ("feature", "kind", *VERDICT_LEAD)
# Text cells longer than this (a feature's reasons) get room to wrap into lines
# rather than into a column one word wide.
LONG_TEXT_CHARS = 40


def render_report(
    day: dt.date | str,
    feature_table: pd.DataFrame,
    score_stats: dict,
    performance: pd.DataFrame | None,
    segments: pd.DataFrame | None,
    history: pd.DataFrame | None,
    *,
    volume: dict | None = None,
    config: MonitoringConfig | None = None,
    model_version: str | None = None,
    performance_window: dict | None = None,
) -> str:
    """The HTML report of one scoring day.

    feature_table comes from feature_drift, score_stats from score_drift,
    performance from performance_by_cohort, segments from segment_outcomes,
    volume from volume_change; history holds one row per earlier day
    (daily_summary records: day, share_drifted, score_psi, volume_ratio, and
    roc_auc if known). performance_window is the pooled judgement of the
    trailing window (keel.monitoring.daily.DayPerformance.window plus its
    window_start and window_end), shown above the per-cohort table.
    config (default: policies/monitoring.yaml) supplies the thresholds drawn
    on the charts and the dataset-drift share.
    """
    config = config or load_monitoring_config()
    share, drifted = dataset_drift(feature_table, config)
    alerts = _alert_lines(feature_table, score_stats, volume, performance, segments, performance_window)
    overall = ALERT if drifted or any(level == ALERT for level, _ in alerts) else WARN if alerts else OK
    sections = [
        _headline(day, share, drifted, feature_table, alerts, overall, model_version, config),
        "<h2>Feature drift</h2>",
        charts.feature_psi_chart(feature_table, config.feature_drift.psi.warn, config.feature_drift.psi.alert),
        _table(
            feature_table.assign(_rank=feature_table["severity"].map(severity_rank))
            .sort_values(["_rank", "psi"], ascending=[False, False])
            .drop(columns="_rank")
            .pipe(_columns_first, FEATURE_TABLE_LEAD),
            severity_column="severity",
        ),
        "<h2>Score drift</h2>",
        charts.score_distribution_chart(score_stats),
        _table(
            pd.DataFrame([{k: v for k, v in score_stats.items() if not isinstance(v, list)}]).pipe(_columns_first, VERDICT_LEAD),
            severity_column="severity",
        ),
    ]
    if volume is not None:
        sections += ["<h2>Volume</h2>", _table(pd.DataFrame([volume]).pipe(_columns_first, VERDICT_LEAD), severity_column="severity")]
    if performance is not None and len(performance):
        sections += [
            "<h2>Performance on landed outcomes</h2>",
            _window_sentence(performance_window),
            '<p class="muted">Per application-date cohort; figures use the labelled rows only. '
            "Until outcomes land, the expected bad rate (mean p_bad) is the estimate.</p>",
            charts.performance_chart(performance, config.performance.roc_auc_below),
            _table(performance, severity_column="severity" if "severity" in performance.columns else None),
        ]
    if segments is not None and len(segments):
        sections += [
            "<h2>Segments</h2>",
            f'<p class="muted">Four-fifths rule: approval rate at least {config.segments.four_fifths_ratio:g} × the best '
            f"segment of the same attribute; segments under {config.segments.min_rows} rows are not judged.</p>",
        ]
        if segments["approval_ratio_vs_best"].notna().any():
            sections.append(charts.segment_chart(segments, config.segments.four_fifths_ratio))
        sections.append(_table(segments))
    if history is not None and len(history) and charts.plotted_history_series(history):
        levels = {
            "share_drifted": [Band(config.dataset_drifted_share, config.dataset_drifted_share)],
            "score_psi": [config.score_drift.psi],
            "volume_ratio": [config.volume.ratio_below, config.volume.ratio_above],
            "roc_auc": [config.performance.roc_auc_below],
        }
        sections += ["<h2>History</h2>", charts.history_chart(history, levels)]
    sections.append(
        f'<p class="muted">Thresholds: {html.escape(config.version)} '
        f"({html.escape(config.source)}, sha256 {html.escape(config.sha256[:12] or 'n/a')}).</p>"
    )
    title = f"keel monitoring — {day}"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>\n"
        + "\n".join(sections)
        + "\n</body></html>\n"
    )


def _window_sentence(window: dict | None) -> str:
    if not window:
        return ""
    span = f"applications {window.get('window_start')} to {window.get('window_end')}"
    if not window.get("judged"):
        return f"<p><b>Not judged yet</b> ({html.escape(span)}): {html.escape(str(window.get('reasons', '')))}.</p>"
    figures = ", ".join(
        f"{label} {window[key]:.3f}"
        for key, label in (("roc_auc", "ROC AUC"), ("brier", "Brier"), ("calibration_error", "calibration error"),
                           ("observed_bad_rate", "observed bad rate"), ("bad_rate_approved", "bad rate among approved"))
        if window.get(key) is not None
    )
    level = window.get("severity", OK)
    return (
        f'<p class="headline {level}"><b>{html.escape(span)}, {window.get("n_labelled")} outcomes pooled: {level}</b> — '
        f"{html.escape(figures)}{'. ' + html.escape(window['reasons']) if window.get('reasons') else ''}</p>"
    )


def _alert_lines(feature_table, score_stats, volume, performance, segments, performance_window=None) -> list[tuple[str, str]]:
    """(severity, sentence) for everything at warn or alert, worst first."""
    lines: list[tuple[str, str]] = []
    for row in feature_table.itertuples(index=False):
        if row.severity != OK:
            lines.append((row.severity, f"feature {row.feature}: {row.reasons}"))
    if score_stats.get("severity", OK) != OK:
        lines.append((score_stats["severity"], f"score: {score_stats.get('reasons', '')}"))
    if volume is not None and volume["severity"] != OK:
        lines.append((volume["severity"], f"volume: {volume['reasons']}"))
    if performance_window and performance_window.get("severity", OK) != OK:
        lines.append(
            (performance_window["severity"],
             f"performance, applications {performance_window.get('window_start')} to {performance_window.get('window_end')}: "
             f"{performance_window.get('reasons', '')}")
        )
    if performance is not None and "severity" in performance.columns:
        for row in performance.itertuples(index=False):
            if row.severity != OK:
                lines.append((row.severity, f"performance, cohort {row[0]}: {row.reasons}"))
    if segments is not None and len(segments):
        failing = segments[segments["four_fifths_ok"].eq(False).fillna(False).astype(bool)]
        for row in failing.itertuples(index=False):
            lines.append(
                (WARN, f"segment {row.segment_column}={row.segment_value}: approval ratio {row.approval_ratio_vs_best:.2f} "
                 "below the four-fifths rule")
            )
    return sorted(lines, key=lambda line: -severity_rank(line[0]))


def _headline(day, share, drifted, feature_table, alerts, overall, model_version, config) -> str:
    n_drifted = int(feature_table["drifted"].sum())
    verdict = "yes" if drifted else "no"
    model = f" · model {html.escape(model_version)}" if model_version else ""
    items = "".join(f'<li class="{level}"><b>{level}</b> {html.escape(text)}</li>' for level, text in alerts)
    return (
        f"<h1>Monitoring report — {html.escape(str(day))}</h1>"
        f'<p class="muted">keel{model}</p>'
        f'<div class="headline {overall}">'
        f"<p><b>Dataset drift: {verdict}</b> — {n_drifted} of {len(feature_table)} features drifted "
        f"({share:.0%}; the dataset counts as drifted from {config.dataset_drifted_share:.0%}).</p>"
        f"<p><b>{sum(1 for level, _ in alerts if level == ALERT)} alerts, "
        f"{sum(1 for level, _ in alerts if level == WARN)} warnings.</b></p>"
        + (f"<ul>{items}</ul>" if items else "<p>Nothing crossed a threshold.</p>")
        + "</div>"
    )


def _columns_first(frame: pd.DataFrame, lead: tuple[str, ...]) -> pd.DataFrame:
    """The columns of `lead` that the frame has, in that order, then the rest as they were."""
    first = [column for column in lead if column in frame.columns]
    return frame[first + [column for column in frame.columns if column not in first]]


def _table(frame: pd.DataFrame, severity_column: str | None = None) -> str:
    """A plain HTML table: numbers right-aligned to 3 significant digits, missing as "–", severity coloured."""
    header = "".join(
        f'<th class="{"num" if pd.api.types.is_numeric_dtype(frame[c].dtype) and frame[c].dtype != bool else "text"}">'
        f"{html.escape(str(c))}</th>"
        for c in frame.columns
    )
    body = []
    for record in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record):
            text = _format(value)
            css = value if column == severity_column and value in (OK, WARN, ALERT) else (
                "num" if isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))
                else "text long" if len(text) > LONG_TEXT_CHARS else "text"
            )
            cells.append(f'<td class="{css}">{html.escape(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<div class=\"scroll\"><table><thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"


def _format(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        return f"{value:.3g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)
