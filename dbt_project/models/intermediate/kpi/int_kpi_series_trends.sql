-- The trend of every KPI series (kpi, measure, level, unit, series) over its current releases at
-- the as-of date (macros/kpi_periods.sql: var kpi_as_of, else the period window's last day, else
-- the latest period_end): values after the as-of date are left out; withheld values
-- (publication_basis 'withheld') are left out of the trend and counted (values_withheld).
-- The maths (docs/kpi_methodology.md), t = years since 2000-01-01 of period_end:
--   change              latest - previous
--   year_on_year_change latest - the value of about a year before (kpi_trend_parameters)
--   cagr                (latest / earliest) ^ (1 / (t_latest - t_earliest)) - 1
--   trend_slope         least-squares slope (regr_slope, per year) over the last trend_points values
--   trend_growth        (latest / first of those) ^ (1 / years between them) - 1 (constant_growth)
with

kpi_values as (

    select * from {{ ref('fct_kpi_values') }}
    where is_current_release and value is not null

),

catalogue as (

    select * from {{ ref('stg_kpi__catalogue') }}

),

parameters as (

    select
        max(case when parameter = 'min_points_for_trend' then parameter_value end) as min_points_for_trend,
        max(case when parameter = 'days_per_year' then parameter_value end) as days_per_year,
        max(case when parameter = 'year_on_year_min_days' then parameter_value end) as year_on_year_min_days,
        max(case when parameter = 'year_on_year_max_days' then parameter_value end) as year_on_year_max_days
    from {{ ref('stg_kpi__trend_parameters') }}

),

as_of as (

    select coalesce({{ kpi_as_of_setting() }}, max(period_end)) as as_of_date
    from kpi_values

),

in_scope as (

    select
        kpi_values.*,
        kpi_values.publication_basis = 'withheld' as is_withheld,
        as_of.as_of_date,
        catalogue.trend_method,
        catalogue.trend_points,
        catalogue.frequency,
        parameters.min_points_for_trend,
        parameters.days_per_year,
        parameters.year_on_year_min_days,
        parameters.year_on_year_max_days,
        {{ kpi_years_since_origin('kpi_values.period_end', 'parameters.days_per_year') }} as t_years
    from kpi_values
    cross join as_of
    cross join parameters
    inner join catalogue
        on catalogue.kpi_code = kpi_values.kpi_code
    where kpi_values.period_end <= as_of.as_of_date

),

points as (

    -- one value per series and period_end (two periods ending the same day: the latest period)
    select
        in_scope.*,
        row_number() over (
            partition by kpi_code, measure, level, coalesce(unit_code, ''), series
            order by period_end desc, period desc
        ) as recency,
        count(*) over (partition by kpi_code, measure, level, coalesce(unit_code, ''), series) as values_used
    from in_scope
    where not is_withheld

),

withheld as (

    select
        kpi_code, measure, level, unit_code, series,
        count(*) as values_withheld
    from in_scope
    where is_withheld
    group by kpi_code, measure, level, unit_code, series

),

latest as (

    select * from points where recency = 1

),

series_stats as (

    select
        points.kpi_code,
        points.measure,
        points.level,
        points.unit_code,
        points.series,
        max(case when points.recency = 2 then points.value end) as previous_value,
        max(case when points.recency = 2 then points.period_end end) as previous_date,
        max(case when points.recency = points.values_used then points.value end) as earliest_value,
        max(case when points.recency = points.values_used then points.t_years end) as earliest_t,
        max(case when points.recency = least(points.trend_points, points.values_used) then points.value end)
            as window_first_value,
        max(case when points.recency = least(points.trend_points, points.values_used) then points.t_years end)
            as window_first_t,
        count(case when points.recency <= points.trend_points then 1 end) as trend_points_used,
        -- NULL, not NaN, when the window has no spread in time (one point): regr_sxx = 0
        case when regr_sxx(
            case when points.recency <= points.trend_points then points.value end,
            case when points.recency <= points.trend_points then points.t_years end
        ) > 0 then regr_slope(
            case when points.recency <= points.trend_points then points.value end,
            case when points.recency <= points.trend_points then points.t_years end
        ) end as trend_slope,
        case when regr_sxx(
            case when points.recency <= points.trend_points then points.value end,
            case when points.recency <= points.trend_points then points.t_years end
        ) > 0 then regr_intercept(
            case when points.recency <= points.trend_points then points.value end,
            case when points.recency <= points.trend_points then points.t_years end
        ) end as trend_intercept
    from points
    group by points.kpi_code, points.measure, points.level, points.unit_code, points.series

),

year_before as (

    -- the value whose period_end is closest to 365 days before the latest, within the window
    select
        kpi_code, measure, level, unit_code, series, year_before_value
    from (
        select
            points.kpi_code,
            points.measure,
            points.level,
            points.unit_code,
            points.series,
            points.value as year_before_value,
            row_number() over (
                partition by
                    points.kpi_code, points.measure, points.level, coalesce(points.unit_code, ''), points.series
                order by abs({{ dbt.datediff('points.period_end', 'latest.period_end', 'day') }} - 365)
            ) as closeness
        from points
        inner join latest
            on {{ kpi_same_series('latest', 'points') }}
        where {{ dbt.datediff('points.period_end', 'latest.period_end', 'day') }}
            between points.year_on_year_min_days and points.year_on_year_max_days
    ) as candidates
    where closeness = 1

),

series_keys as (

    select kpi_code, measure, level, unit_code, series from latest
    union
    select kpi_code, measure, level, unit_code, series from withheld

),

final as (

    select
        series_keys.kpi_code,
        series_keys.measure,
        series_keys.level,
        series_keys.unit_code,
        series_keys.series,
        coalesce(
            latest.is_aggregate, series_keys.unit_code is null and series_keys.level <> 'national'
        ) as is_aggregate,
        as_of.as_of_date,
        catalogue.trend_method,
        catalogue.trend_points,
        catalogue.frequency,
        parameters.min_points_for_trend,
        parameters.days_per_year,
        latest.value as latest_value,
        latest.period as latest_period,
        latest.period_end as latest_date,
        latest.t_years as latest_t,
        latest.publication_basis as latest_publication_basis,
        series_stats.previous_value,
        series_stats.previous_date,
        latest.value - series_stats.previous_value as change,
        latest.value - year_before.year_before_value as year_on_year_change,
        case
            when latest.value > 0 and series_stats.earliest_value > 0 and latest.t_years > series_stats.earliest_t
                then power(
                    latest.value / series_stats.earliest_value, 1.0 / (latest.t_years - series_stats.earliest_t)
                ) - 1
        end as cagr,
        series_stats.trend_points_used,
        series_stats.trend_slope,
        series_stats.trend_intercept,
        case
            when latest.value > 0 and series_stats.window_first_value > 0
                and latest.t_years > series_stats.window_first_t
                then power(
                    latest.value / series_stats.window_first_value, 1.0 / (latest.t_years - series_stats.window_first_t)
                ) - 1
        end as trend_growth,
        coalesce(latest.values_used, 0) as values_used,
        coalesce(withheld.values_withheld, 0) as values_withheld,
        {{ dbt.dateadd('day', '-1 * frequencies.max_age_days', 'as_of.as_of_date') }} > latest.period_end as is_stale,
        frequencies.max_age_days,
        catalogue.methodology_version
    from series_keys
    cross join as_of
    cross join parameters
    inner join catalogue
        on catalogue.kpi_code = series_keys.kpi_code
    left join {{ ref('stg_kpi__frequencies') }} as frequencies
        on frequencies.frequency = catalogue.frequency
    left join latest
        on {{ kpi_same_series('latest', 'series_keys') }}
    left join series_stats
        on {{ kpi_same_series('series_stats', 'series_keys') }}
    left join year_before
        on {{ kpi_same_series('year_before', 'series_keys') }}
    left join withheld
        on {{ kpi_same_series('withheld', 'series_keys') }}

)

select * from final
