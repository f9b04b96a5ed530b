{#- A 64-bit float for measures, ratios and points. dbt.type_float() is `float` on DuckDB,
    which is 32-bit (REAL): points would lose precision (13.333334). `double precision` is the
    ANSI spelling of a 64-bit float (DuckDB, Postgres, Snowflake accept it). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'dxmon')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{#- Exact sums, so that a rerun gives marts identical to the last bit. Floating-point addition is
    not associative: parallel aggregation adds doubles in an order that depends on how the rows
    reached each thread (the window of months built, where a killed run stopped, the number of
    threads), so the last bits of a total could change between two runs on the same input
    ((a + b) + c differs from a + (b + c) in the last digit). Summing in exact DECIMAL (12
    decimals, far below the published 2 or 4) makes the total independent of the order:
      type_exact()        the exact type: decimal(38, 12) (numeric(38, 12) on Postgres and
                          Snowflake, bignumeric on BigQuery through a dispatch when needed)
      exact_total(x)      the exact sum, kept exact (to be summed again: a roll-up of subtotals,
                          such as the back-cast basis of the service measures)
      exact_sum(x)        the exact sum cast back to a double, for the measure and point columns
    Counts need none of this (integer sums are exact); a sum of doubles always goes through one
    of them (unit test test_int_service_measures_aggregated_sums_are_exact; the marts of a run
    killed and resumed are compared to the bit in tests/reliability/test_reruns_kill.py). -#}
{% macro type_exact() -%}
    {{ return(adapter.dispatch('type_exact', 'dxmon')()) }}
{%- endmacro %}

{% macro default__type_exact() -%}
    decimal(38, 12)
{%- endmacro %}

{% macro exact_total(expression) -%}
    sum(cast({{ expression }} as {{ dxmon.type_exact() }}))
{%- endmacro %}

{% macro exact_sum(expression) -%}
    cast({{ dxmon.exact_total(expression) }} as {{ dxmon.type_double() }})
{%- endmacro %}
