{# Rows of the partition window this run builds (inclusive on both ends).
   The dbt_transform asset sets both variables for each build; a build run
   by hand without them covers every day. Environment variables, not vars:
   dbt reparses the whole project when --vars change, but only the files
   that read an environment variable when its value changes. #}
{% macro in_partition_window(column) -%}
    {{ column }} between cast('{{ env_var("KEEL_DBT_START_DATE", "1900-01-01") }}' as date)
                     and cast('{{ env_var("KEEL_DBT_END_DATE", "2999-12-31") }}' as date)
{%- endmacro %}
