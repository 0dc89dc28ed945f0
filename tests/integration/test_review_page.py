"""The review page (`keel review serve`) over HTTP: what it shows, what it refuses, and a decision through to the ledger.

A real server on a free 127.0.0.1 port against a copy of the demo home; the
page is read and posted to as a browser would (tests/browser/test_ui.py
clicks through it in chromium). Its list is `keel review list`'s, its
decision `keel review decide`'s.
"""

import json
import re
import signal
import subprocess
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.integration.helpers import free_port, keel, keel_json, start_keel, wait_for_http

pytestmark = pytest.mark.integration


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _request(url: str, form: dict | None = None, headers: dict | None = None, body: bytes | None = None):
    """(status, headers, text) of one request; a POST when `form` or `body` is given."""
    data = body if body is not None else (urllib.parse.urlencode(form).encode() if form is not None else None)
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with _opener.open(request, timeout=60) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


@pytest.fixture(scope="module")
def page(demo_copy):
    home, _ = demo_copy
    port = free_port()
    with open(home / "review-page.log", "w") as log:
        server = start_keel(home, "review", "serve", "--port", str(port), stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_http(f"http://127.0.0.1:{port}/", timeout=60)
            yield {"base": f"http://127.0.0.1:{port}", "home": home}
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)


def _token(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def _inbox_files(home) -> list:
    return sorted((home / "review" / "inbox").glob("*.jsonl"))


def test_the_page_lists_the_oldest_pending_cases_as_keel_review_list_does(page):
    status, headers, html = _request(page["base"] + "/")
    listed = keel_json(page["home"], "review", "list", "--limit", "50")
    assert status == 200 and headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert re.findall(r'<article id="(A\d+)"', html) == [case["application_id"] for case in listed["cases"]]
    assert f"{listed['pending']} pending ({listed['overdue']} overdue), {listed['decided']} decided; showing the oldest 50 of {listed['pending']}" in html
    first = listed["cases"][0]
    assert first["reasons"][0]["text"] in html and first["top_features"] in html
    # One day's cases only, and a date that is not one refused by name.
    status, _, one_day = _request(page["base"] + "/?date=2026-01-02")
    assert status == 200 and set(re.findall(r'<article id="(A\d+)"', one_day)) == {
        case["application_id"] for case in keel_json(page["home"], "review", "list", "--date", "2026-01-02")["cases"]
    }
    status, _, bad = _request(page["base"] + "/?date=2026-13-40")
    assert status == 400 and "date &#39;2026-13-40&#39; is not a date; expected YYYY-MM-DD" in bad


def test_a_case_page_tells_the_whole_story_with_the_application_as_received(page):
    _, _, queue = _request(page["base"] + "/")
    case = re.search(r'<article id="(A\d+)"', queue).group(1)
    assert f'href="/cases/{case}"' in queue
    explained = keel_json(page["home"], "explain", case)
    status, _, html = _request(page["base"] + f"/cases/{case}")
    assert status == 200 and 'action="/decide"' in html and f'name="application_id" value="{case}"' in html
    assert re.findall(r"<li>([^<]*)</li>", html)[0] == explained["story"][0]
    raw = dict(re.findall(r"<tr><th>([^<]+)</th><td>([^<]*)</td></tr>", html.split('id="raw"')[1].split("</table>")[0]))
    assert raw["amount"] == str(explained["raw_values"]["amount"]) and raw["application_id"] == case
    # The demo's days are long past the policy's SLA: the case is overdue, as the list says.
    [listed] = [c for c in keel_json(page["home"], "review", "list", "--limit", "50")["cases"] if c["application_id"] == case]
    assert listed["overdue"] is True
    assert f"<span>due {listed['due_by']}</span>" in html and ">OVERDUE</span>" in html
    # An id that is none, or one nothing is known of, is a 404 saying so.
    status, _, not_an_id = _request(page["base"] + "/cases/A12")
    assert status == 404 and "&#39;A12&#39; is not an application id (A + 6 to 9 digits)" in not_an_id
    status, _, unknown = _request(page["base"] + "/cases/A999999999")
    assert status == 404 and "no decision is recorded for A999999999" in unknown


def test_requests_another_site_could_make_are_refused_and_write_nothing(page):
    _, _, html = _request(page["base"] + "/")
    case = re.search(r'<article id="(A\d+)"', html).group(1)
    decision = {"application_id": case, "decision": "approve", "reviewer": "mallory", "reason": "looks fine", "token": _token(html)}
    # A DNS-rebinding page reaches the server under its own host name.
    assert _request(page["base"] + "/", headers={"Host": "attacker.example"})[0] == 400
    # A form posted from another site has no token (or an old one); a script's JSON is not a form.
    assert _request(page["base"] + "/decide", form={**decision, "token": "guessed"})[0] == 403
    assert _request(page["base"] + "/decide", form={k: v for k, v in decision.items() if k != "token"})[0] == 403
    status, _, _ = _request(page["base"] + "/decide", body=json.dumps(decision).encode(), headers={"Content-Type": "application/json"})
    assert status == 415
    assert _inbox_files(page["home"]) == []


def test_a_decision_is_refused_with_its_reason_or_written_then_taken_in_as_any_other(page):
    home = page["home"]
    _, _, html = _request(page["base"] + "/?date=2026-01-03")
    case = re.search(r'<article id="(A\d+)"', html).group(1)
    decision = {"application_id": case, "decision": "decline", "reviewer": "lee", "token": _token(html), "return_date": "2026-01-03"}

    status, _, refused = _request(page["base"] + "/decide", form={**decision, "reason": "  "})
    assert status == 400 and f"application {case}: reason is empty" in refused and _inbox_files(home) == []

    status, headers, _ = _request(page["base"] + "/decide", form={**decision, "reason": "income not declared, & no payslip"})
    assert status == 303 and headers["Location"] == f"/?done={case}%3Adecline&date=2026-01-03"
    assert "keel_reviewer=lee" in headers["Set-Cookie"] and "HttpOnly" in headers["Set-Cookie"]
    [written] = _inbox_files(home)
    line = json.loads(written.read_text())
    assert (line["application_id"], line["decision"], line["reviewer"], line["reason"]) == (case, "decline", "lee", "income not declared, & no payslip")

    status, _, after = _request(page["base"] + headers["Location"], headers={"Cookie": "keel_reviewer=lee"})
    assert status == 200 and f"{case}: decline written to the inbox" in after
    assert f"decline by lee waiting in the inbox ({written.name})" in after and 'name="reviewer" value="lee"' in after
    _, _, case_page = _request(page["base"] + f"/cases/{case}")
    assert f"decline by lee waiting in the inbox ({written.name})" in case_page and 'action="/decide"' not in case_page
    # A second decision for the case is refused, as on the command line.
    status, _, again = _request(page["base"] + "/decide", form={**decision, "decision": "approve", "reason": "second thoughts"})
    assert status == 400 and f"application {case} already has a decision waiting in the inbox (decline by lee" in again

    keel(home, "review", "ingest")
    [decided] = [c for c in keel_json(home, "review", "list", "--all", "--date", "2026-01-03")["cases"] if c["application_id"] == case]
    assert (decided["decision"], decided["reviewer"], decided["reason"]) == ("decline", "lee", "income not declared, & no payslip")
    _, _, later = _request(page["base"] + "/?date=2026-01-03")
    assert f'<article id="{case}"' not in later

    # The case's page now offers to correct the decision; the amendment is an inbox line of its own.
    _, _, decided_page = _request(page["base"] + f"/cases/{case}")
    assert "decline</strong> by lee" in decided_page and 'name="amend" value="1"' in decided_page
    assert "<span>due " not in decided_page and "OVERDUE" not in decided_page
    amendment = {**decision, "token": _token(decided_page), "decision": "approve", "reason": "payslip arrived", "amend": "1"}
    assert _request(page["base"] + "/decide", form=amendment)[0] == 303
    [amended] = _inbox_files(home)
    assert json.loads(amended.read_text()) | {"reviewed_at": None} == {
        "application_id": case, "decision": "approve", "reviewer": "lee", "reason": "payslip arrived", "reviewed_at": None, "amends": True
    }
