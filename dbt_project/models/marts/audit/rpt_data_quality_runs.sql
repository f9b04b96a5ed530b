-- One row per index, run, month and check source (GX or dbt): how many checks ran, passed and
-- failed (blocking or not), the offending rows they counted and which checks failed.
-- is_latest_run: the most recent run that checked the month with that source.
with

history as (

    select * from {{ ref('fct_validation_history') }}

),

period_status as (

    select * from {{ ref('stg_audit_meta__period_status') }}

),

by_run as (

    select
        index_name,
        run_id,
        period_month,
        check_source,
        count(*) as checks,
        count(case when success then 1 end) as checks_passed,
        count(case when not success then 1 end) as checks_failed,
        count(case when not success and is_blocking then 1 end) as blocking_checks_failed,
        count(case when not success and not is_blocking then 1 end) as warnings,
        sum(case when not success then coalesce(unexpected_count, 0) else 0 end) as unexpected_rows,
        string_agg(case when not success then suite_or_test || ': ' || expectation
            || coalesce(' on ' || column_name, '') end, '; '
            order by suite_or_test, expectation, column_name) as failed_checks,
        min(checked_at) as first_checked_at,
        max(checked_at) as last_checked_at
    from history
    group by 1, 2, 3, 4

),

final as (

    select
        by_run.*,
        row_number() over (
            partition by by_run.index_name, by_run.period_month, by_run.check_source
            order by by_run.last_checked_at desc, by_run.run_id asc
        ) = 1 as is_latest_run,
        period_status.is_publishable as period_is_publishable_now
    from by_run
    left join period_status
        on period_status.period_month = by_run.period_month
        and by_run.index_name = 'service_index'

)

select * from final
