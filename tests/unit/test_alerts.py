"""Failing monitoring checks become incidents, each announced once, delivered to a file and a webhook."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from keel.alerts import (
    DRIFT,
    PERFORMANCE,
    AlertSettings,
    CheckEvaluation,
    IncidentState,
    advance,
    build_alert,
    build_run_failure_alert,
    deliver,
    read_alerts,
    validate_webhook_url,
)

FEATURES = "feature_drift:features_within_drift_thresholds"
DATASET = "feature_drift:dataset_not_drifted"
PERF = "model_performance:performance_within_thresholds"
KINDS = {FEATURES: DRIFT, DATASET: DRIFT, PERF: PERFORMANCE}


def result(record_id, check, day, passed, severity="ERROR", features=(), description=None):
    return CheckEvaluation(record_id, check, day, passed, severity, run_id=f"run-{record_id}", features=features, description=description)


def test_an_error_failure_opens_one_incident_that_later_failures_only_extend():
    first = advance(IncidentState(), [result(1, FEATURES, "2026-01-08", False, features=("income",), description="income psi 0.4")], KINDS)
    assert [i.id for i in first.opened] == ["drift:2026-01-08"] and not first.closed
    second = advance(
        first.state,
        [result(2, FEATURES, "2026-01-09", False, features=("job",)), result(3, DATASET, "2026-01-09", False)],
        KINDS,
    )
    assert not second.opened, "one incident per stretch of failing days, not one per day or tick"
    incident = second.state.open[DRIFT]
    assert incident["features"] == ["income", "job"] and incident["last_day"] == "2026-01-09"
    assert incident["checks"] == [FEATURES, DATASET]


def test_the_incident_closes_only_when_every_check_of_its_kind_passes_again():
    state = advance(IncidentState(), [result(1, FEATURES, "2026-01-08", False), result(2, DATASET, "2026-01-08", False)], KINDS).state
    still = advance(state, [result(3, FEATURES, "2026-01-09", True)], KINDS)
    assert not still.closed and DRIFT in still.state.open
    over = advance(still.state, [result(4, DATASET, "2026-01-09", True)], KINDS)
    assert [i.id for i in over.closed] == ["drift:2026-01-08"] and not over.state.open
    again = advance(over.state, [result(5, FEATURES, "2026-01-12", False)], KINDS)
    assert [i.id for i in again.opened] == ["drift:2026-01-12"]


def test_warnings_and_unwatched_checks_open_nothing():
    step = advance(
        IncidentState(),
        [result(1, FEATURES, "2026-01-08", False, severity="WARN"), result(2, "segment_outcomes:four_fifths", "2026-01-08", False)],
        KINDS,
    )
    assert not step.opened and not step.state.open


def test_a_rerun_of_an_older_day_does_not_reopen_or_close_anything():
    state = advance(IncidentState(), [result(5, FEATURES, "2026-01-09", True)], KINDS).state
    step = advance(state, [result(6, FEATURES, "2026-01-03", False)], KINDS)
    assert not step.opened
    assert step.state.checks[FEATURES]["partition"] == "2026-01-09"


def test_kinds_are_independent_incidents():
    step = advance(IncidentState(), [result(1, FEATURES, "2026-01-08", False), result(2, PERF, "2026-01-08", False)], KINDS)
    assert sorted(i.id for i in step.opened) == ["drift:2026-01-08", "performance:2026-01-08"]


def test_the_state_survives_a_round_trip_through_the_sensor_cursor():
    state = advance(IncidentState(), [result(1, FEATURES, "2026-01-08", False)], KINDS).state
    restored = IncidentState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert not advance(restored, [result(2, FEATURES, "2026-01-09", False)], KINDS).opened


def test_the_alert_names_the_day_features_and_the_retraining():
    incident = advance(IncidentState(), [result(1, FEATURES, "2026-01-08", False, features=("income", "job"), description="income psi 0.4")], KINDS).opened[0]
    alert = build_alert(incident, "train_model")
    assert alert["day"] == "2026-01-08" and alert["features"] == ["income", "job"] and alert["kind"] == DRIFT
    assert "income, job" in alert["text"] and "train_model" in alert["text"] and "not be promoted" in alert["text"]


def test_the_alert_text_cuts_long_details_at_a_word_and_keeps_them_whole_in_details():
    long = "; ".join(f"feature_{i} (alert: psi 1.{i:02d} >= alert 0.25; ks statistic 0.5{i} >= alert 0.25)" for i in range(12))
    incident = advance(IncidentState(), [result(1, FEATURES, "2026-01-08", False, features=("income",), description=long)], KINDS).opened[0]
    alert = build_alert(incident, "train_model")
    assert alert["details"] == [long]
    shown = alert["text"].split("in income: ", 1)[1].split(" … (all in details)")[0]
    assert long.startswith(shown) and long[len(shown)] == " ", "cut between words, not inside one"
    assert alert["text"].endswith("Retraining requested (train_model); the candidate will not be promoted without approval.")


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver.received
    server.shutdown()


def _alert():
    incident = advance(IncidentState(), [result(1, PERF, "2026-01-10", False, description="roc auc 0.61")], KINDS).opened[0]
    return build_alert(incident, "train_model")


def test_an_alert_is_posted_to_the_webhook_and_appended_to_the_file(tmp_path, webhook):
    url, received = webhook
    settings = AlertSettings.from_env(tmp_path, {"KEEL_ALERT_WEBHOOK": url})
    delivery = deliver(_alert(), settings)
    assert delivery.webhook == "delivered (HTTP 204)"
    assert received[0]["incident"] == "performance:2026-01-10"
    (line,) = read_alerts(tmp_path / "alerts.jsonl")
    assert line["incident"] == "performance:2026-01-10" and line["webhook"] == "delivered (HTTP 204)"


def test_a_webhook_that_is_down_loses_nothing(tmp_path):
    settings = AlertSettings(file=tmp_path / "a" / "alerts.jsonl", webhook_url="http://127.0.0.1:9/hook", timeout_seconds=1)
    delivery = deliver(_alert(), settings)
    assert delivery.webhook_failed
    assert read_alerts(settings.file)[0]["webhook"].startswith("failed")


def test_alert_file_from_the_environment(tmp_path):
    assert AlertSettings.from_env(tmp_path, {"KEEL_ALERT_FILE": str(tmp_path / "x.jsonl")}).file == tmp_path / "x.jsonl"
    assert AlertSettings.from_env(tmp_path, {}).webhook_url is None


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://host/x", "http://", "hooks.example.com"])
def test_only_http_urls_with_a_host_are_accepted(url):
    with pytest.raises(ValueError, match="KEEL_ALERT_WEBHOOK"):
        validate_webhook_url(url)


def test_a_failed_runs_alert_says_what_failed_and_whose_move_it_is():
    url = "http://127.0.0.1:3000/runs/r1"
    blocked = build_run_failure_alert("daily_decisioning", "r1", "raw_applications: blocked", url, day="2026-01-04", block_reason="header only", daily_job=True)
    assert (blocked["kind"], blocked["incident"], blocked["details"]) == ("day_blocked", "run:r1", ["header only"])
    assert blocked["text"] == f"keel: 2026-01-04 blocked: header only. Next: ask the source to resend the file; the landing sensor takes the new one in. Run: {url}"
    failed = build_run_failure_alert("daily_decisioning", "r1", "scores: ValueError: boom", url, day="2026-01-04", daily_job=True)
    assert (failed["kind"], failed["details"], failed["next_step"]) == ("run_failed", ["scores: ValueError: boom"], "fix the cause, then `keel run --date 2026-01-04`")
    assert failed["text"].startswith("keel: the daily_decisioning run of 2026-01-04 failed: scores: ValueError: boom. Next: fix the cause")
    other = build_run_failure_alert("train_model", "r2", None, url)
    assert (other["day"], other["details"], other["next_step"]) == (None, ["see its logs"], "open the run in the UI; run the job again once fixed")
    assert other["text"].startswith("keel: the train_model run failed: see its logs.")
    long = build_run_failure_alert("train_model", "r3", "x " * 400, url)
    assert "(all in details)" in long["text"] and long["details"] == ["x " * 400]


def test_an_outage_is_alerted_once_per_day_and_only_from_a_recent_check():
    from keel.alerts import OUTAGE_DAYS_REMEMBERED, OUTAGE_RESULT_MAX_AGE_SECONDS, build_outage_alert, outage_to_alert

    assert outage_to_alert("2026-01-04", True, 60, []) == ["2026-01-04"]
    assert outage_to_alert("2026-01-04", True, 60, ["2026-01-04"]) is None, "the next hour's check of the same day"
    assert outage_to_alert("2026-01-05", True, 60, ["2026-01-04"]) == ["2026-01-04", "2026-01-05"], "the next day late is a new outage"
    assert outage_to_alert("2026-01-04", False, 60, []) is None
    assert outage_to_alert("2026-01-04", True, OUTAGE_RESULT_MAX_AGE_SECONDS + 1, []) is None, "a result from hours ago says nothing about now"
    many = [f"2025-{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, 29)]
    remembered = outage_to_alert("2026-01-04", True, 60, many)
    assert len(remembered) == OUTAGE_DAYS_REMEMBERED and remembered[-1] == "2026-01-04"
    alert = build_outage_alert("2026-01-04", "source outage: applications for 2026-01-04 was due by 2026-01-05 05:00 UTC.", "http://h/runs/r")
    assert (alert["kind"], alert["incident"], alert["run_url"]) == ("source_outage", "source_outage:2026-01-04", "http://h/runs/r")
    assert alert["text"] == (
        "keel: source outage: applications for 2026-01-04 was due by 2026-01-05 05:00 UTC. "
        "Next: ask the source to deliver it; the landing sensor starts the day's run when it lands."
    )
