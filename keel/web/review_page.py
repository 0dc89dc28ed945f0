"""The review page: the review queue in a browser, and a reviewer's decision into the inbox.

Reviewers who do not live in a terminal work the queue here: the pending
cases oldest first, each with its score, the policy's reasons, the features
that pushed the score and its due time (overdue ones marked, on the list
and on the case's own page), and a form to approve or decline it with a
reason. It reads and writes exactly what `keel review list` and `keel
review decide` do (keel.review.desk): a decision becomes a new inbox file,
which the review sensor takes in within a minute and checks again against
the queue, so the ledger records it as any other.

It has no login: like the Dagster UI it binds 127.0.0.1 by default, for the
people of one machine or behind a proxy that authenticates them; the
reviewer names themselves in the form, as on the command line. What it does
guard against is another web page driving it: requests must name one of its
own hosts (a DNS-rebinding page cannot), every form carries a token the
server drew at start, and the page runs no script and may not be framed.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from keel.columns import APPLICATION_ID_PATTERN
from keel.home import KeelHome
from keel.review.desk import ReviewRefused, list_cases, waiting_in_inbox, write_decision
from keel.warehouse import WarehouseBusy

CASES_SHOWN = 50
# How long a page waits for a run holding the warehouse before saying so (a run's step holds it for seconds).
WAREHOUSE_WAIT_SECONDS = 10.0
REVIEWER_COOKIE = "keel_reviewer"
MAX_FORM_BYTES = 16_384
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
WAREHOUSE_BUSY = f"a run is writing the warehouse (waited {WAREHOUSE_WAIT_SECONDS:.0f} s)"
STALE_FORM = "this form is not from this review page (or the page was served before a restart): reload the page and decide again"

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
)


def own_hosts(host: str) -> list[str]:
    """The host names a request may give: the address served on, and this machine's loopback names."""
    return sorted({host, "127.0.0.1", "localhost", "::1", "[::1]"})


def _day(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ReviewRefused(f"date {text!r} is not a date; expected YYYY-MM-DD") from None


def _secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def _done_text(done: str | None) -> str | None:
    """The line confirming the decision just written (`done` = id:decision, as the redirect gives it)."""
    application_id, _, decision = (done or "").partition(":")
    if not APPLICATION_ID_PATTERN.fullmatch(application_id) or decision not in ("approve", "decline"):
        return None
    return f"{application_id}: {decision} written to the inbox; the review sensor takes it in within a minute (or `keel review ingest` now)"


def review_page_app(home: KeelHome, host: str = "127.0.0.1") -> Starlette:
    """The review page of `home`, answering requests that name `host` or a loopback name."""
    token = secrets.token_urlsafe(32)

    def page(day: dt.date | None, reviewer: str, done: str | None = None, refused: str | None = None, status: int = 200) -> Response:
        cases: list[dict] = []
        counts = {"pending": 0, "overdue": 0, "decided": 0, "shown": 0, "listed": 0}
        try:
            found = list_cases(home, day, limit=CASES_SHOWN, wait_seconds=WAREHOUSE_WAIT_SECONDS)
            cases = found.cases
            counts = {"pending": found.pending, "overdue": found.overdue, "decided": found.decided, "shown": len(cases), "listed": found.listed}
        except FileNotFoundError as error:
            refused, status = refused or str(error), 404 if status == 200 else status
        except WarehouseBusy:
            refused = refused or f"{WAREHOUSE_BUSY}: reload the page in a moment"
            status = 503 if status == 200 else status
        html = _templates.get_template("review_queue.html").render(
            cases=cases, counts=counts, day=day.isoformat() if day else None, reviewer=reviewer, token=token, done=done, refused=refused
        )
        return _secured(HTMLResponse(html, status_code=status))

    def case_page(application_id: str, reviewer: str) -> Response:
        from keel import warehouse as wh
        from keel.audit.explain import NotDecided, NotFound, explain_application
        from keel.decisioning import current_policy
        from keel.review.queue_view import pending_case_due

        record, due, refused, status = None, None, None, 200
        try:
            if not APPLICATION_ID_PATTERN.fullmatch(application_id):
                raise NotFound(f"{application_id!r} is not an application id (A + 6 to 9 digits)")
            with wh.connect(home.warehouse, read_only=True, wait_seconds=WAREHOUSE_WAIT_SECONDS) as con:
                record = explain_application(con, application_id, current_policy())
                due = pending_case_due(con, application_id, dt.datetime.now(dt.timezone.utc))
        except NotDecided as undecided:
            # No decision stands: what became of it is the page (held back, received and not decided), or nothing is known.
            record = undecided.record
            status = 200 if record.get("received_undecided") or record.get("held_back") else 404
        except (NotFound, FileNotFoundError) as problem:
            refused, status = str(problem), 404
        except WarehouseBusy:
            refused, status = f"{WAREHOUSE_BUSY}: reload the page in a moment", 503
        waiting = waiting_in_inbox(home).get(application_id) if record else None
        pending = bool(record) and record.get("route") == "review" and record.get("final_decision") == "pending"
        html = _templates.get_template("case.html").render(
            application_id=application_id, case=record, due=due, refused=refused, waiting=waiting, can_decide=pending and waiting is None,
            reviewer=reviewer, token=token, day=None,
        )
        return _secured(HTMLResponse(html, status_code=status))

    async def show_case(request: Request) -> Response:
        reviewer = request.cookies.get(REVIEWER_COOKIE, "")
        return await run_in_threadpool(case_page, request.path_params["application_id"], reviewer)

    async def show_queue(request: Request) -> Response:
        reviewer = request.cookies.get(REVIEWER_COOKIE, "")
        try:
            day = _day(request.query_params.get("date"))
        except ReviewRefused as error:
            return await run_in_threadpool(page, None, reviewer, refused=str(error), status=400)
        return await run_in_threadpool(page, day, reviewer, done=_done_text(request.query_params.get("done")))

    async def decide(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return _secured(PlainTextResponse("expected a form (application/x-www-form-urlencoded)", status_code=415))
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return _secured(PlainTextResponse(f"the form is larger than {MAX_FORM_BYTES} bytes", status_code=413))
        form = {name: values[0] for name, values in parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True).items()}
        if not hmac.compare_digest(form.get("token", "").encode(), token.encode()):
            return _secured(PlainTextResponse(STALE_FORM, status_code=403))
        reviewer = form.get("reviewer", "").strip()
        application_id, decision = form.get("application_id", ""), form.get("decision", "")
        try:
            day = _day(form.get("return_date"))
        except ReviewRefused:
            day = None
        try:
            await run_in_threadpool(
                write_decision, home, application_id, decision, reviewer, form.get("reason", ""),
                amend=form.get("amend") == "1", wait_seconds=WAREHOUSE_WAIT_SECONDS,
            )
        except (ReviewRefused, FileNotFoundError) as error:
            return await run_in_threadpool(page, day, reviewer, refused=str(error), status=400)
        except WarehouseBusy:
            busy = f"{WAREHOUSE_BUSY}: nothing was written, decide again in a moment"
            return await run_in_threadpool(page, day, reviewer, refused=busy, status=503)
        query = {"done": f"{application_id}:{decision}", **({"date": day.isoformat()} if day else {})}
        response = RedirectResponse(f"/?{urlencode(query)}", status_code=303)
        response.set_cookie(REVIEWER_COOKIE, reviewer, max_age=30 * 24 * 3600, httponly=True, samesite="strict")
        return _secured(response)

    return Starlette(
        routes=[
            Route("/", show_queue, methods=["GET"]),
            Route("/cases/{application_id}", show_case, methods=["GET"]),
            Route("/decide", decide, methods=["POST"]),
        ],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=own_hosts(host))],
    )
