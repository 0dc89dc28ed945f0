{# Rows of the partition window this run builds (inclusive on both ends). #}
{% macro in_partition_window(column) -%}
    {{ column }} between cast('{{ var("start_date") }}' as date) and cast('{{ var("end_date") }}' as date)
{%- endmacro %}
