-- The platform KPIs computed from the 766 service index (seed kpi_platform_measures): per month,
-- every unit as reported (is_backcast false: the units valid in the month, not the back-cast
-- current units), then rolled up to all ministries, all provinces and the nation by SUMMING the
-- numerators and the denominators (never averaging the units' ratios).
-- value = numerator / denominator x scale (percent: 0-100); NULL when the denominator is 0.
with

all_indicator_rows as (

    -- the service index's indicators when they have been built (macros/kpi_sources.sql)
    {{ kpi_mart_or_empty('fct_service_index_indicators_monthly', [
        ('period_month', 'date'), ('unit_code', dbt.type_string()), ('unit_level', dbt.type_string()),
        ('is_backcast', dbt.type_boolean()), ('methodology_version', dbt.type_string()),
        ('indicator_code', dbt.type_string()), ('numerator_measure', dbt.type_string()),
        ('denominator_measure', dbt.type_string()), ('numerator', type_double()),
        ('denominator', type_double())]) }}

),

indicator_rows as (

    select * from all_indicator_rows
    where not is_backcast

),

platform_measures as (

    select * from {{ ref('stg_kpi__platform_measures') }}

),

measure_values as (

    -- the indicator rows name their measures: one row per month, unit and measure (a measure
    -- shared by several indicators has the same value in each)
    select
        period_month, unit_code, unit_level, methodology_version,
        numerator_measure as measure_code, numerator as measure_value
    from indicator_rows
    union all
    select
        period_month, unit_code, unit_level, methodology_version,
        denominator_measure as measure_code, denominator as measure_value
    from indicator_rows

),

unit_measures as (

    select
        period_month,
        unit_code,
        unit_level,
        methodology_version,
        measure_code,
        max(measure_value) as measure_value
    from measure_values
    group by period_month, unit_code, unit_level, methodology_version, measure_code

),

unit_values as (

    select
        platform_measures.kpi_code,
        platform_measures.measure,
        platform_measures.scale,
        numerators.period_month,
        numerators.unit_level,
        numerators.unit_code,
        numerators.methodology_version,
        numerators.measure_value as numerator,
        denominators.measure_value as denominator
    from platform_measures
    inner join unit_measures as numerators
        on numerators.measure_code = platform_measures.numerator_measure
    inner join unit_measures as denominators
        on denominators.measure_code = platform_measures.denominator_measure
        and denominators.period_month = numerators.period_month
        and denominators.unit_code = numerators.unit_code
        and denominators.unit_level = numerators.unit_level

),

level_totals as (

    select
        kpi_code,
        measure,
        scale,
        period_month,
        unit_level,
        cast(null as {{ dbt.type_string() }}) as unit_code,
        methodology_version,
        {{ exact_sum('numerator') }} as numerator,
        {{ exact_sum('denominator') }} as denominator
    from unit_values
    group by kpi_code, measure, scale, period_month, unit_level, methodology_version

),

national_totals as (

    select
        kpi_code,
        measure,
        scale,
        period_month,
        'national' as unit_level,
        cast(null as {{ dbt.type_string() }}) as unit_code,
        methodology_version,
        {{ exact_sum('numerator') }} as numerator,
        {{ exact_sum('denominator') }} as denominator
    from unit_values
    group by kpi_code, measure, scale, period_month, methodology_version

),

unioned as (

    select *, false as is_aggregate from unit_values
    union all
    select *, true as is_aggregate from level_totals
    union all
    select *, false as is_aggregate from national_totals

),

final as (

    select
        kpi_code,
        measure,
        unit_level as level,
        unit_code,
        is_aggregate,
        period_month,
        {{ dbt.last_day('period_month', 'month') }} as period_end,
        case when denominator > 0 then numerator / cast(denominator as {{ type_double() }}) * scale end as value,
        numerator,
        denominator,
        methodology_version
    from unioned

)

select * from final
