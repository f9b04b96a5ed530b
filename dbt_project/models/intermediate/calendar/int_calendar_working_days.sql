-- Every date 2020-01-01 .. 2030-12-31 with whether public agencies work that day, and a running
-- working-day index: working days between two dates = index(later) - index(earlier)
-- (macros/working_days.sql). Used for statutory working-day durations (2.1), the on-time rules of
-- 1.1/1.2 (NĐ 63/2010) and the complaint deadlines of 5.2.
with

holidays as (

    select * from {{ ref('stg_calendar__vn_public_holidays') }}

),

date_spine as (

    {{ dbt.date_spine('day', "cast('2020-01-01' as date)", "cast('2031-01-01' as date)") }}

),

dates as (

    select cast(date_day as date) as calendar_date
    from date_spine
    where date_day < cast('2031-01-01' as date)

),

flagged as (

    select
        dates.calendar_date,
        -- 0 = Sunday .. 6 = Saturday (macros/working_days.sql)
        cast({{ day_of_week('dates.calendar_date') }} as {{ dbt.type_int() }}) as day_of_week,
        holidays.day_kind,
        holidays.holiday_name_vi
    from dates
    left join holidays
        on holidays.holiday_date = dates.calendar_date

),

classified as (

    select
        calendar_date,
        day_of_week,
        day_of_week in (0, 6) as is_weekend,
        coalesce(day_kind = 'holiday', false) as is_holiday,
        coalesce(day_kind = 'makeup_workday', false) as is_makeup_workday,
        holiday_name_vi,
        case
            when day_kind = 'makeup_workday' then true
            when day_kind = 'holiday' then false
            when day_of_week in (0, 6) then false
            else true
        end as is_working_day
    from flagged

),

final as (

    select
        calendar_date,
        cast({{ dbt.date_trunc('month', 'calendar_date') }} as date) as calendar_month,
        day_of_week,
        is_weekend,
        is_holiday,
        is_makeup_workday,
        holiday_name_vi,
        is_working_day,
        cast(
            sum(case when is_working_day then 1 else 0 end) over (
                order by calendar_date
                rows between unbounded preceding and current row
            ) as {{ dbt.type_int() }}
        ) as working_day_index
    from classified

)

select * from final
