-- The months task tracking classifies: every month from the first month with an accepted status
-- report up to the as-of month. The as-of date is kpi_as_of_setting() (var kpi_as_of, else the
-- last day of the run's window), else the latest accepted report's period end: never the clock.
-- A month is assessed on its evaluation_date: its last day, or the as-of date in the as-of month.
-- `with recursive` is ANSI SQL; it must open the whole WITH clause, so the import CTEs follow it.
with recursive

report_submissions as (

    select * from {{ ref('stg_tasks__report_submissions') }}
    where is_accepted

),

bounds as (

    select
        min(period_month) as first_month,
        coalesce({{ kpi_as_of_setting() }}, max(period_end)) as as_of_date
    from report_submissions

),

months (period_month, as_of_date) as (

    select
        first_month as period_month,
        as_of_date
    from bounds
    where first_month is not null
        and first_month <= as_of_date

    union all

    select
        cast({{ dbt.dateadd('month', 1, 'period_month') }} as date) as period_month,
        as_of_date
    from months
    where cast({{ dbt.dateadd('month', 1, 'period_month') }} as date) <= as_of_date

),

final as (

    select
        period_month,
        {{ kpi_month_key('period_month') }} as period,
        cast({{ dbt.last_day('period_month', 'month') }} as date) as month_end,
        case
            when as_of_date < cast({{ dbt.last_day('period_month', 'month') }} as date) then as_of_date
            else cast({{ dbt.last_day('period_month', 'month') }} as date)
        end as evaluation_date,
        as_of_date,
        cast({{ dbt.date_trunc('month', 'as_of_date') }} as date) = period_month as is_as_of_month
    from months

)

select * from final
