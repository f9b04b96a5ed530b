{#- A 64-bit float for measures, ratios and points. dbt.type_float() is `float` on DuckDB,
    which is 32-bit (REAL): points would lose precision (13.333334). `double precision` is the
    ANSI spelling of a 64-bit float (DuckDB, Postgres, Snowflake accept it). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'dxmon')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{#- A sum of floating-point values that does not depend on row order. Parallel aggregation adds
    doubles in a different order on each run, so the last bits of a total could change between
    two runs on the same input; rankings must be reproducible to the byte. Summing in exact
    DECIMAL (12 decimals, far below the published 2 or 4) and casting back removes that. -#}
{% macro exact_sum(expression) -%}
    cast(sum(cast({{ expression }} as decimal(38, 12))) as {{ dxmon.type_double() }})
{%- endmacro %}
