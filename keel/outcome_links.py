"""Do the day's repayment outcomes name applications keel received, and which correct an earlier outcome?

An outcome is joined to its application by application_id. One that names
an application keel never received (a mistyped id, an application sent to
another system, one whose row was quarantined) joins nothing: it would be
left out of monitoring and training without a word. One that names an
application with an outcome already landed is the source correcting it; the
latest counts (keel/monitoring/daily.py, keel/models/training_set.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from keel import warehouse as wh

SHOWN_UNLINKED = 10  # rows named in the check's text; the metadata table holds up to 100

UNLINKED_SQL = """
select o.source_file, o.source_row_number, o.application_id
from raw.outcomes o
where o.partition_date in (select unnest(?::varchar[]))
  and not exists (select 1 from raw.applications a where a.application_id = o.application_id)
order by o.source_file, o.source_row_number
"""

CORRECTIONS_SQL = """
select count(*)
from raw.outcomes o
where o.partition_date in (select unnest(?::varchar[]))
  and exists (
      select 1 from raw.outcomes earlier
      where earlier.application_id = o.application_id and earlier.outcome_date < o.outcome_date
  )
"""


@dataclass(frozen=True)
class OutcomeLinks:
    outcomes: int  # outcomes landed on the days
    unlinked: pd.DataFrame  # source_file, source_row_number, application_id of outcomes naming no received application
    corrections: int  # outcomes of an application whose outcome had landed on an earlier day

    def message(self) -> str | None:
        """What an operator reads when some outcomes name no received application; None when all do."""
        if self.unlinked.empty:
            return None
        count = len(self.unlinked)
        shown = "; ".join(
            f"{row.source_file} row {row.source_row_number} application_id {row.application_id}"
            for row in self.unlinked.head(SHOWN_UNLINKED).itertuples()
        )
        more = f"; and {count - SHOWN_UNLINKED} more" if count > SHOWN_UNLINKED else ""
        return (
            f"{count} of {self.outcomes} outcomes name an application keel never received (expected an application_id in "
            f"raw.applications, found none: never delivered, or its row was quarantined), so they join no decision and are "
            f"left out of monitoring and training: {shown}{more}"
        )


def outcome_links(con, days: list[str]) -> OutcomeLinks:
    """The links of the outcomes landed on `days` (partition dates, YYYY-MM-DD)."""
    landed = (
        wh.fetch_one(con, "select count(*) from raw.outcomes where partition_date in (select unnest(?::varchar[]))", [days])[0]
        if wh.table_exists(con, "raw", "outcomes")
        else 0
    )
    if not landed:
        return OutcomeLinks(0, pd.DataFrame(columns=["source_file", "source_row_number", "application_id"]), 0)
    if wh.table_exists(con, "raw", "applications"):
        unlinked = con.execute(UNLINKED_SQL, [days]).df()
    else:
        unlinked = con.execute(
            "select source_file, source_row_number, application_id from raw.outcomes "
            "where partition_date in (select unnest(?::varchar[])) order by source_file, source_row_number",
            [days],
        ).df()
    corrections = wh.fetch_one(con, CORRECTIONS_SQL, [days])[0]
    return OutcomeLinks(int(landed), unlinked, int(corrections))
