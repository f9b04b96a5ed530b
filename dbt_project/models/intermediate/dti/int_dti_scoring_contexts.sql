-- What one invocation scores (docs/dti_design.md). One row per scoring context:
--   provisional: every month M of the period window (vars period_start/period_end) that lies in
--     a DTI year of the years seed and has begun: the index of year(M) as of the end of M
--     (reports dated on or before M's last day; service-index measures January..M).
--   final: with var dti_final_year set, that year from all its latest accepted reports
--     regardless of date and the service index of the whole year (period_month NULL).
-- context_key names the context in joins ('provisional:2025-03-01', 'final:2024'), since
-- period_month is NULL for the final one.
{%- set final_year = dti_final_year() %}
with

years as (

    select * from {{ ref('stg_methodology__dti_years') }}

),

month_spine as (

    {{ dbt.date_spine('month', "cast('2020-01-01' as date)", "cast('2031-01-01' as date)") }}

),

months as (

    select cast(date_month as date) as period_month
    from month_spine
    where date_month < cast('2031-01-01' as date)
        -- a month that has not begun has no end-of-month state to score
        and date_month <= {{ dbt.current_timestamp() }}

),

provisional as (

    select
        {{ dbt.concat(["'provisional:'", "cast(months.period_month as " ~ dbt.type_string() ~ ")"]) }} as context_key,
        years.year,
        months.period_month,
        cast({{ dbt.last_day('months.period_month', 'month') }} as date) as as_of_date,
        months.period_month as measures_through_month,
        true as is_provisional
    from months
    inner join years
        on years.year = extract(year from months.period_month)
    where {{ in_period_window('months.period_month') }}

),

final_year as (

    {%- if final_year is not none %}
    select
        {{ dbt.concat(["'final:'", "cast(year as " ~ dbt.type_string() ~ ")"]) }} as context_key,
        year,
        cast(null as date) as period_month,
        cast(null as date) as as_of_date,
        cast(
            {{ dbt.concat(["cast(year as " ~ dbt.type_string() ~ ")", "'-12-01'"]) }} as date
        ) as measures_through_month,
        false as is_provisional
    from years
    where year = {{ final_year }}
    {%- else %}
    -- var dti_final_year not set: no final context
    select
        cast(null as {{ dbt.type_string() }}) as context_key,
        cast(null as {{ dbt.type_int() }}) as year,
        cast(null as date) as period_month,
        cast(null as date) as as_of_date,
        cast(null as date) as measures_through_month,
        false as is_provisional
    from years
    where 1 = 0
    {%- endif %}

),

contexts as (

    select * from provisional
    union all
    select * from final_year

),

final as (

    select
        contexts.context_key,
        contexts.year,
        contexts.period_month,
        contexts.as_of_date,
        contexts.measures_through_month,
        contexts.is_provisional,
        years.methodology_version,
        years.units_as_of,
        years.ministry_units_as_of,
        years.year_end_date
    from contexts
    inner join years
        on years.year = contexts.year

)

select * from final
