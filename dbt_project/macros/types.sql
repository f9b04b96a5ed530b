{#- A 64-bit float for measures, ratios and points. dbt.type_float() is `float` on DuckDB,
    which is 32-bit (REAL): points would lose precision (13.333334). `double precision` is the
    ANSI spelling of a 64-bit float (DuckDB, Postgres, Snowflake accept it). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'dxmon')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}
