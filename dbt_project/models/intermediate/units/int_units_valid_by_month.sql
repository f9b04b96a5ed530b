-- Every unit version for every month 2020-01 .. 2030-12 in which it is valid (valid on the
-- month's first day; all registry changes take effect on a first day).
with

units as (

    select * from {{ ref('int_units_unioned') }}

),

month_spine as (

    {{ dbt.date_spine('month', "cast('2020-01-01' as date)", "cast('2031-01-01' as date)") }}

),

months as (

    select cast(date_month as date) as period_month
    from month_spine
    where date_month < cast('2031-01-01' as date)

),

final as (

    select
        months.period_month,
        units.unit_key,
        units.unit_code,
        units.unit_name,
        units.unit_level,
        units.unit_type,
        units.dti_group,
        units.region_vi,
        units.region_en,
        units.is_ranked_in_service_index,
        units.valid_from,
        units.valid_to
    from months
    inner join units
        on units.valid_from <= months.period_month
        and (units.valid_to is null or units.valid_to >= months.period_month)

)

select * from final
