-- Repayment outcomes as they became known: the label arrives on outcome_date.
select
    application_id,
    cast(outcome_date as date)              as outcome_date,
    status                                  as repayment_status,
    case when status = 'bad' then 1 else 0 end as is_bad
from {{ source('raw', 'outcomes') }}
