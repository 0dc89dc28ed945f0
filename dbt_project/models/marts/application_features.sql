{{
  config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='application_date',
    on_schema_change='append_new_columns'
  )
}}
-- The feature mart: one row per application with the ratios the credit model
-- and the policy read. Built per daily partition; rebuilding a day replaces it.
select
    application_id,
    application_date,
    seniority_years,
    home,
    loan_term_months,
    age,
    case
        when age <= 25 then '18-25'
        when age <= 35 then '26-35'
        when age <= 45 then '36-45'
        when age <= 55 then '46-55'
        else '56+'
    end                                                   as age_band,
    marital,
    has_records,
    job,
    expenses,
    income,
    assets,
    debt,
    amount,
    price,
    amount / nullif(price, 0)                             as loan_to_price,
    (amount / nullif(loan_term_months, 0)) / nullif(income, 0) as installment_to_income,
    source_file,
    source_sha256,
    source_row_number,
    raw_row_hash
from {{ ref('stg_applications') }}
where {{ in_partition_window('application_date') }}
