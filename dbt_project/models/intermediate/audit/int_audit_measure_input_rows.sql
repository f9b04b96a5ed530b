{{ config(materialized='view') }}
-- Lineage at row level: one row per month, unit (as reported in the month), measure and source
-- row that the measure counts. The predicates are those int_service_measures_aggregated sums
-- (macros/service_measures.sql, grouped by macros/audit_measures.sql); is_exact is false for the
-- summed and derived measures, whose value is not their row count (their rows here are the
-- population the value is computed from). A view: rows are read on demand (dxmon
-- explain); rpt_score_lineage counts the same predicates per source file in one pass.
with

{{ service_measure_relations(windowed=false) }},

measure_rows as (

    {%- set parts = [] %}
    {%- for entity, relation, key, measures, exact in audit_measure_definitions() %}
    {%- for measure, predicate in measures.items() %}
    {%- do parts.append(
        "select period_month, unit_code, unit_level, '" ~ measure ~ "' as measure_code, '" ~ entity
        ~ "' as entity, " ~ key ~ " as entity_id, source_id, source_row, " ~ exact
        ~ " as is_exact from " ~ relation ~ " where " ~ predicate
    ) %}
    {%- endfor %}
    {%- endfor %}
    {{ parts | join('\n    union all\n    ') }}

),

final as (

    select * from measure_rows

)

select * from final
