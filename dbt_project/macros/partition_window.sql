{# Rows of the partition window this run builds (inclusive on both ends).
   The dbt_transform asset sets both variables for each build; a build run
   by hand without them covers every day. Environment variables, not vars:
   dbt reparses the whole project when --vars change. And read only when
   dbt executes, not when it parses: dbt records the environment variables a
   file reads while parsing and reparses that file when one changes, and a
   reparse costs ~2 s (its macros' dependencies rebuilt), so a new day's
   window would cost every daily run that. While parsing the filter is
   `true`; parsing reads only refs and configs. #}
{% macro in_partition_window(column) -%}
    {%- if execute -%}
    {{ column }} between cast('{{ env_var("KEEL_DBT_START_DATE", "1900-01-01") }}' as date)
                     and cast('{{ env_var("KEEL_DBT_END_DATE", "2999-12-31") }}' as date)
    {%- else -%}
    true
    {%- endif %}
{%- endmacro %}
