-- The early warnings of task tracking's as-of month (docs/task_tracking.md, "Early warnings"): one
-- row per warning of the latest month of rpt_task_warnings. Severity warn: a warning is for the
-- officials who follow the tasks, not a defect of the data, so it never fails the build; Dagster
-- shows it as a warning asset check on rpt_task_warnings, and `dxmon tasks warnings` lists them.
{{ config(severity='warn', tags=['tasks']) }}

with

warnings as (

    select * from {{ ref('rpt_task_warnings') }}

),

as_of_month as (

    select max(period_month) as period_month
    from warnings

),

final as (

    select
        warnings.period,
        warnings.warning_kind,
        warnings.unit_code,
        warnings.task_code,
        warnings.message
    from warnings
    inner join as_of_month
        on as_of_month.period_month = warnings.period_month

)

select * from final
