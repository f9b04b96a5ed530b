{#- The indicator codes of every service-index methodology version, in display order, read
    from the indicator seed (through its staging view) when executing. At parse time there is no
    database: an empty list keeps parsing working. Models using it must declare
    `-- depends_on: {{ ref('stg_methodology__service_index_indicators') }}`.
    dbt unit tests override this macro with a fixed list. -#}
{% macro service_index_indicator_codes() %}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set indicators = ref('stg_methodology__service_index_indicators') -%}
    {%- set query -%}
        select indicator_code, min(indicator_order) as display_order
        from {{ indicators }}
        group by indicator_code
        order by display_order, indicator_code
    {%- endset -%}
    {%- set result = run_query(query) -%}
    {{ return(result.columns[0].values() | list) }}
{% endmacro %}

{#- Column prefix of an indicator in wide marts: '3.5a' -> 'i3_5a', '4.x' -> 'i4_x'. -#}
{% macro indicator_column_prefix(indicator_code) -%}
    i{{ indicator_code | lower | replace('.', '_') }}
{%- endmacro %}
