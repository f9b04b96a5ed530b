-- Data quality per month, reporting unit and extract: rows loaded and rejected, the share
-- rejected, the rules that rejected them (rule: rows), and whether the latest validation run
-- flagged the unit (e.g. the dossier completeness check). Units are the codes as reported.
with

unit_rows as (

    select * from {{ ref('int_audit_rows_by_unit') }}

),

history as (

    select * from {{ ref('fct_validation_history') }}

),

latest_runs as (

    select index_name, period_month, run_id
    from {{ ref('rpt_data_quality_runs') }}
    where is_latest_run and check_source = 'great_expectations'

),

flagged_units as (

    -- failed checks of the latest run whose offending ids are units ('unit:<code>')
    select
        history.period_month,
        replace(flagged.unit_id, 'unit:', '') as reported_unit_code,
        string_agg(distinct history.suite_or_test || ': ' || history.expectation, '; '
            order by history.suite_or_test || ': ' || history.expectation) as flagged_by_checks
    from history
    inner join latest_runs
        on latest_runs.run_id = history.run_id
        and latest_runs.period_month = history.period_month
        and latest_runs.index_name = history.index_name
    cross join unnest(cast(json(history.sample_row_ids) as varchar[])) as flagged(unit_id)  -- noqa: LT01
    where not history.success
        and history.sample_row_ids like '%unit:%'
        and flagged.unit_id like 'unit:%'
    group by 1, 2

),

rejections as (

    select
        period_month,
        extract_kind,
        reported_unit_code,
        rejection_rule,
        sum(row_count) as rejected_rows
    from unit_rows
    where rejection_rule is not null
    group by 1, 2, 3, 4

),

by_unit as (

    select
        period_month,
        extract_kind,
        reported_unit_code,
        sum(row_count) as rows_loaded,
        sum(case when rejection_rule is not null then row_count else 0 end) as rows_rejected,
        count(distinct source_id) as sources
    from unit_rows
    group by 1, 2, 3

    union all

    -- a flagged unit that sent nothing still gets its row
    select
        flagged_units.period_month,
        'dossiers' as extract_kind,
        flagged_units.reported_unit_code,
        0 as rows_loaded,
        0 as rows_rejected,
        0 as sources
    from flagged_units
    where not exists (
        select 1 from unit_rows
        where unit_rows.period_month = flagged_units.period_month
            and unit_rows.extract_kind = 'dossiers'
            and unit_rows.reported_unit_code = flagged_units.reported_unit_code
    )

),

final as (

    select
        'service_index' as index_name,
        by_unit.period_month,
        by_unit.reported_unit_code,
        by_unit.extract_kind,
        by_unit.sources,
        by_unit.rows_loaded,
        by_unit.rows_rejected,
        round(by_unit.rows_rejected / nullif(by_unit.rows_loaded, 0), 6) as rejected_share,
        (
            select
                string_agg(
                    r.rejection_rule || ': ' || r.rejected_rows, '; '
                    order by r.rejected_rows desc, r.rejection_rule asc
                )
            from rejections as r
            where r.period_month = by_unit.period_month
                and r.extract_kind = by_unit.extract_kind
                and r.reported_unit_code = by_unit.reported_unit_code
        ) as rejections_by_rule,
        flagged_units.flagged_by_checks,
        flagged_units.reported_unit_code is not null as is_flagged_by_validation
    from by_unit
    left join flagged_units
        on flagged_units.period_month = by_unit.period_month
        and flagged_units.reported_unit_code = by_unit.reported_unit_code
        and by_unit.extract_kind = 'dossiers'

)

select * from final
