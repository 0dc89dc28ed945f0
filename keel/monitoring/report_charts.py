"""The charts of the monitoring report, each returned as an <img> tag with an embedded SVG.

matplotlib is imported inside the functions: importing it costs most of a
second, and Dagster imports every module the definitions touch whenever the
code location loads. Figures are built with the object-oriented API on the
SVG canvas (no pyplot global state) and saved as SVG with their text kept as
text: drawing each label's glyphs into a PNG was about a third of the time
of a report, which is drawn every day. The SVG is saved without its date,
with a fixed salt for the ids it gives its clip paths, so the same figures
give byte-identical files in any process.
"""

from __future__ import annotations

import base64
import html
import io

import numpy as np
import pandas as pd

from keel.monitoring.severity import ALERT, OK, WARN, Band

HISTORY_SERIES: tuple[str, ...] = ("share_drifted", "score_psi", "volume_ratio", "roc_auc")
SEVERITY_COLOURS = {OK: "#4c956c", WARN: "#e0a100", ALERT: "#c0392b"}
REFERENCE_COLOUR = "#8d99ae"
CURRENT_COLOUR = "#2b59c3"
# Text as <text> elements in the browser's font (DejaVu Sans when it has it,
# the font the layout was measured with) and clip path ids from a fixed salt,
# not a random one per process.
SVG_SETTINGS = {"svg.fonttype": "none", "svg.hashsalt": "keel-monitoring-report"}


def _figure(width: float, height: float, *, left: float = 0.6, bottom: float = 0.55, top: float = 0.3, right: float = 0.2, wspace: float = 0.25):
    """A figure with fixed margins, given in inches.

    Fixed margins instead of matplotlib's constrained layout: the layout
    engine doubled the time of a chart, and a report is drawn every day.
    """
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    figure.subplots_adjust(
        left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height, wspace=wspace
    )
    FigureCanvasSVG(figure)
    return figure


def _img(figure, alt: str) -> str:
    import matplotlib

    # Set, never restored: restoring them while another thread saves a chart
    # would give that chart a random salt. No other matplotlib code in keel
    # saves SVG.
    matplotlib.rcParams.update(SVG_SETTINGS)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/svg+xml;base64,{encoded}">'


def _threshold_lines(axes, band: Band) -> None:
    axes.axhline(band.warn, color=SEVERITY_COLOURS[WARN], linestyle="--", linewidth=1)
    axes.axhline(band.alert, color=SEVERITY_COLOURS[ALERT], linestyle="--", linewidth=1)


def feature_psi_chart(feature_table: pd.DataFrame, warn: float, alert: float) -> str:
    """Horizontal bars of PSI per feature, coloured by severity, with the warn and alert levels."""
    table = feature_table.sort_values("psi", na_position="first")
    figure = _figure(7, 0.3 * len(table) + 1.2, left=1.9)
    axes = figure.add_subplot()
    values = table["psi"].fillna(0.0).to_numpy()
    axes.barh(table["feature"], values, color=[SEVERITY_COLOURS[s] for s in table["severity"]])
    axes.axvline(warn, color=SEVERITY_COLOURS[WARN], linestyle="--", linewidth=1, label=f"warn {warn:g}")
    axes.axvline(alert, color=SEVERITY_COLOURS[ALERT], linestyle="--", linewidth=1, label=f"alert {alert:g}")
    axes.set_xlabel("population stability index (bar colour: severity after the significance test)")
    if len(values) and values.max() > 10 * alert:
        axes.set_xscale("symlog", linthresh=alert)
    axes.legend(loc="lower right", fontsize=8)
    return _img(figure, "PSI per feature")


def score_distribution_chart(score_stats: dict) -> str:
    """Reference and current share of scores in each reference decile of p_bad."""
    reference = np.asarray(score_stats["reference_shares"], dtype="float64")
    current = np.asarray(score_stats.get("current_shares") or np.zeros_like(reference), dtype="float64")
    cuts = score_stats["cut_points"]
    labels = [f"≤{cuts[0]:.2f}"] + [f"{low:.2f}–{high:.2f}" for low, high in zip(cuts, cuts[1:])] + [f">{cuts[-1]:.2f}"] if cuts else ["all"]
    positions = np.arange(len(reference))
    figure = _figure(7, 3.0, bottom=1.0, left=0.8)
    axes = figure.add_subplot()
    axes.bar(positions - 0.2, reference, width=0.4, color=REFERENCE_COLOUR, label="training")
    axes.bar(positions + 0.2, current, width=0.4, color=CURRENT_COLOUR, label="today")
    axes.set_xticks(positions, labels, rotation=45, ha="right", fontsize=7)
    axes.set_ylabel("share of applications")
    axes.set_xlabel("p_bad bin (training deciles)")
    axes.legend(fontsize=8)
    return _img(figure, "score distribution, training vs today")


def performance_chart(performance: pd.DataFrame, roc_auc_below: Band) -> str:
    """ROC AUC per cohort with its warn and alert levels, and observed vs expected bad rate per cohort."""
    dates = performance.iloc[:, 0].astype(str)
    positions = np.arange(len(performance))
    figure = _figure(8, 3.2, bottom=0.9, left=0.5)
    left, right = figure.subplots(1, 2)
    left.plot(positions, performance["roc_auc"], marker="o", color=CURRENT_COLOUR)
    _threshold_lines(left, roc_auc_below)
    lowest = np.nanmin(np.append(performance["roc_auc"].to_numpy(dtype="float64"), roc_auc_below.alert))
    left.set_ylim(min(0.5, lowest - 0.05), 1.0)
    left.set_title("ROC AUC (labelled rows)", fontsize=9)
    right.plot(positions, performance["expected_bad_rate"], marker="o", color=REFERENCE_COLOUR, label="expected (mean p_bad)")
    right.plot(positions, performance["observed_bad_rate"], marker="o", color=CURRENT_COLOUR, label="observed")
    right.set_ylim(bottom=0)
    right.set_title("bad rate", fontsize=9)
    right.legend(fontsize=7)
    step = max(1, len(positions) // 8)
    for axes in (left, right):
        axes.set_xticks(positions[::step], dates[::step], rotation=45, ha="right", fontsize=7)
    return _img(figure, "performance by cohort")


def segment_chart(segments: pd.DataFrame, four_fifths_ratio: float) -> str:
    """Approval ratio vs the best segment of each attribute, with the four-fifths line."""
    judged = segments[segments["approval_ratio_vs_best"].notna()]
    labels = judged["segment_column"] + "=" + judged["segment_value"]
    colours = [SEVERITY_COLOURS[OK] if ok else SEVERITY_COLOURS[ALERT] for ok in judged["four_fifths_ok"].fillna(True)]
    figure = _figure(7, 0.25 * len(judged) + 1.2, left=1.9)
    axes = figure.add_subplot()
    axes.barh(labels, judged["approval_ratio_vs_best"], color=colours)
    axes.axvline(four_fifths_ratio, color=SEVERITY_COLOURS[ALERT], linestyle="--", linewidth=1, label=f"{four_fifths_ratio:g}")
    axes.set_xlabel("approval rate / best approval rate of the same attribute")
    axes.invert_yaxis()
    axes.legend(fontsize=8)
    return _img(figure, "approval ratio by segment")


def plotted_history_series(history: pd.DataFrame) -> list[str]:
    """The history columns with at least one figure (roc_auc stays empty until outcomes land)."""
    return [c for c in HISTORY_SERIES if c in history.columns and pd.to_numeric(history[c], errors="coerce").notna().any()]


def history_chart(history: pd.DataFrame, levels: dict[str, list[Band]]) -> str:
    """Share of drifted features, score PSI and volume ratio over past days (those present),
    each with its thresholds (`levels` maps the column to its bands)."""
    series = plotted_history_series(history)
    days = history["day"].astype(str)
    positions = np.arange(len(history))
    figure = _figure(2.6 * len(series) + 0.6, 2.8, bottom=0.9, left=0.5, wspace=0.35)
    panels = figure.subplots(1, len(series), squeeze=False)[0]
    step = max(1, len(positions) // 8)
    for axes, column in zip(panels, series):
        axes.plot(positions, pd.to_numeric(history[column], errors="coerce"), marker="o", color=CURRENT_COLOUR)
        for band in levels.get(column, []):
            _threshold_lines(axes, band)
        if column != "roc_auc":
            axes.set_ylim(bottom=0)
        axes.set_title(column.replace("_", " "), fontsize=9)
        axes.set_xticks(positions[::step], days[::step], rotation=45, ha="right", fontsize=7)
    return _img(figure, "monitoring history")
