{#- KPI tracking reads the marts of two other assets (the service index's, the DTI's), which a
    warehouse may not have built yet: the monthly service-index run comes before the first DTI
    run, and a kpi_tracking run may come before either. `kpi_mart_or_empty` selects from the mart
    when it exists, else no row with the columns the KPI models read (typed), so KPI tracking
    builds on whatever exists; `ref()` is still called, so the dependency stays in the DAG.
    columns: a list of (name, type) pairs. -#}
{% macro kpi_mart_or_empty(model_name, columns) -%}
    {%- set relation = ref(model_name) -%}
    {%- if execute and load_relation(relation) is none -%}
        select
        {%- for name, type in columns %}
            cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        where 1 = 0
    {%- else -%}
        select * from {{ relation }}
    {%- endif -%}
{%- endmacro %}
