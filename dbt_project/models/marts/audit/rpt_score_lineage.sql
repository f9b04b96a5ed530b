-- Lineage of every score (docs/audit.md): one row per month, unit (as ranked in the month, not
-- back-cast), indicator and input source (file or API page) the indicator's numerator or
-- denominator counted rows of. Says the value, points, rule and methodology version; the input's
-- location, sha256, archived copy and rows counted; its validation status; and the run, code
-- version and input hash that built the month. An indicator with no input row has one row with
-- a null source. The rows themselves: int_audit_measure_input_rows (dxmon explain prints them).
with

indicators as (

    select * from {{ ref('fct_service_index_indicators_monthly') }}
    where {{ in_period_window('period_month') }}
        and not is_backcast

),

ranking as (

    select * from {{ ref('rpt_service_ranking_monthly') }}
    where {{ in_period_window('period_month') }}
        and not is_backcast

),

{{ service_measure_relations(windowed=true) }},

{%- for entity, relation, key, measures, exact in audit_measure_definitions() %}
measure_counts_{{ loop.index }} as (

    -- rows each {{ entity }} measure counts per month, unit and source, in one aggregate pass
    select
        period_month,
        unit_code,
        source_id,
        {%- for measure, predicate in measures.items() %}
        sum(case when {{ predicate }} then 1 else 0 end) as {{ measure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    group by 1, 2, 3

),

{% endfor -%}
input_counts as (

    -- the counts unpivoted (a few thousand rows; the row-level view unions every measure's rows,
    -- over a hundred million at 10 M dossiers, and is only read for one unit by dxmon explain)
    {%- set parts = [] %}
    {%- for entity, relation, key, measures, exact in audit_measure_definitions() %}
    {%- set counts = 'measure_counts_' ~ loop.index %}
    {%- for measure in measures %}
    {%- do parts.append(
        "select period_month, unit_code, '" ~ measure ~ "' as measure_code, source_id, "
        ~ measure ~ " as row_count, " ~ exact ~ " as is_exact from " ~ counts ~ " where " ~ measure ~ " > 0"
    ) %}
    {%- endfor %}
    {%- endfor %}
    {{ parts | join('\n    union all\n    ') }}

),

sources as (

    select * from {{ ref('stg_ingestion_log__ingested_sources') }}

),

archive as (

    select * from {{ ref('stg_audit_meta__raw_archive') }}

),

period_status as (

    select * from {{ ref('stg_audit_meta__period_status') }}

),

provenance as (

    {{ latest_run_provenance('service_index') }}

),

latest_gx_results as (

    {{ latest_validation_results('service_index') }}

),

latest_gx as (

    -- the failed checks of each month's latest validation, per extract
    select
        period_month,
        extract_kind,
        string_agg(case when not success then suite_name || ': ' || expectation
            || coalesce(' on ' || column_name, '') end, '; '
            order by suite_name, expectation, column_name) as failed_checks
    from latest_gx_results
    group by 1, 2

),

rows_by_source as (

    select
        indicators.period_month,
        indicators.unit_code,
        indicators.indicator_code,
        input_counts.source_id,
        sum(case when input_counts.measure_code = indicators.numerator_measure
            then input_counts.row_count else 0 end) as numerator_rows,
        sum(case when input_counts.measure_code = indicators.denominator_measure
            then input_counts.row_count else 0 end) as denominator_rows,
        bool_and(input_counts.is_exact) as is_row_set_exact
    from indicators
    inner join input_counts
        on input_counts.period_month = indicators.period_month
        and input_counts.unit_code = indicators.unit_code
        and input_counts.measure_code in (indicators.numerator_measure, indicators.denominator_measure)
    group by 1, 2, 3, 4

),

final as (

    select
        'service_index' as index_name,
        indicators.period_month,
        indicators.unit_code,
        indicators.unit_level,
        indicators.methodology_version,
        indicators.group_code,
        indicators.indicator_code,
        indicators.scoring_rule,
        indicators.max_points,
        indicators.target_ratio,
        indicators.numerator_measure,
        indicators.denominator_measure,
        indicators.numerator,
        indicators.denominator,
        indicators.ratio as value,
        indicators.points,
        indicators.is_scored,
        ranking.total_score,
        ranking.rank,
        rows_by_source.source_id,
        sources.source_type,
        sources.extract_kind,
        sources.location,
        sources.original_location,
        sources.sha256,
        archive.archived_path,
        sources.loaded_at as source_loaded_at,
        sources.row_count as source_row_count,
        sources.rejected_count as source_rejected_count,
        rows_by_source.numerator_rows,
        rows_by_source.denominator_rows,
        rows_by_source.is_row_set_exact,
        latest_gx.failed_checks as source_failed_checks,
        period_status.is_publishable as period_is_publishable,
        period_status.blocking_failures as period_blocking_failures,
        provenance.run_id,
        provenance.code_version,
        provenance.input_hash
    from indicators
    left join rows_by_source
        on rows_by_source.period_month = indicators.period_month
        and rows_by_source.unit_code = indicators.unit_code
        and rows_by_source.indicator_code = indicators.indicator_code
    left join ranking
        on ranking.period_month = indicators.period_month
        and ranking.unit_code = indicators.unit_code
    left join sources
        on sources.source_id = rows_by_source.source_id
    left join archive
        on archive.sha256 = sources.sha256
    left join latest_gx
        on latest_gx.period_month = indicators.period_month
        and latest_gx.extract_kind = sources.extract_kind
    left join period_status
        on period_status.period_month = indicators.period_month
    left join provenance
        on provenance.period_month = indicators.period_month

)

select * from final
