"""`keel review ...`: the review queue out to reviewers and their decisions back in."""

from __future__ import annotations

import typer

review_app = typer.Typer(help="Human review: list the queue, decide, export/import spreadsheets, ingest the inbox.", no_args_is_help=True)
