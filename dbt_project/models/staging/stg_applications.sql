-- Applications in business names and types: one row per accepted application.
select
    application_id,
    cast(application_date as date)            as application_date,
    cast(seniority as integer)                as seniority_years,
    home,
    cast("time" as integer)                   as loan_term_months,
    cast(age as integer)                      as age,
    marital,
    case when records = 'yes' then 1 else 0 end as has_records,
    job,
    cast(expenses as double)                  as expenses,
    cast(income as double)                    as income,
    cast(assets as double)                    as assets,
    cast(debt as double)                      as debt,
    cast(amount as double)                    as amount,
    cast(price as double)                     as price,
    source_file,
    source_sha256,
    source_row_number,
    raw_row_hash
from {{ source('raw', 'applications') }}
