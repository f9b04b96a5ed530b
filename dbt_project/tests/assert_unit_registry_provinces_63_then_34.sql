-- Resolution 202/2025/QH15: 63 provinces in 2025-06, 34 from 2025-07; every ranked unit valid
-- in a month is attributed to itself in that month. Returns the violations.
with

units_by_month as (

    select * from {{ ref('int_units_valid_by_month') }}

),

unit_attribution as (

    select * from {{ ref('int_unit_codes_attributed') }}

),

province_counts as (

    select period_month, count(*) as province_count
    from units_by_month
    where unit_level = 'province'
        and period_month in (cast('2025-06-01' as date), cast('2025-07-01' as date))
    group by 1

),

wrong_counts as (

    select
        'province count' as problem,
        cast(period_month as {{ dbt.type_string() }}) as detail
    from province_counts
    where (period_month = cast('2025-06-01' as date) and province_count <> 63)
        or (period_month = cast('2025-07-01' as date) and province_count <> 34)

),

not_self_attributed as (

    select
        'valid unit not attributed to itself' as problem,
        {{ dbt.concat([
            "units_by_month.unit_code", "' '", "cast(units_by_month.period_month as " ~ dbt.type_string() ~ ")"
        ]) }} as detail
    from units_by_month
    left join unit_attribution
        on unit_attribution.reported_unit_code = units_by_month.unit_code
        and unit_attribution.period_month = units_by_month.period_month
    where unit_attribution.unit_code is null
        or unit_attribution.unit_code <> units_by_month.unit_code

)

select * from wrong_counts
union all
select * from not_self_attributed
