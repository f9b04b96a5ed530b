-- National-statistics KPI values: the valid rows of accepted files, one row per value and
-- release. A revised release supersedes the earlier one but never overwrites it: both stay, and
-- is_current_release marks the latest release of the same series (publisher), KPI, measure,
-- level, unit and period (by release_date, then load order: load_sequence).
with

statistics_values as (

    select * from {{ ref('stg_kpi__statistics_values') }}
    where is_valid

),

releases as (

    select * from {{ ref('stg_kpi__statistics_releases') }}
    where is_accepted

),

joined as (

    select
        statistics_values.*,
        coalesce(statistics_values.publisher, releases.publisher, 'national_statistics') as series,
        coalesce(statistics_values.release, releases.default_release, statistics_values.load_id) as release_name,
        releases.loaded_at,
        releases.load_sequence,
        case
            when {{ dbt.length('statistics_values.period') }} = 4 then 'year'
            when statistics_values.period like '%Q%' then 'quarter'
            when {{ dbt.length('statistics_values.period') }} = 7 then 'month'
            else 'day'
        end as period_kind
    from statistics_values
    inner join releases
        on releases.load_id = statistics_values.load_id

),

dated as (

    select
        joined.*,
        case period_kind
            when 'year' then cast({{ dbt.concat(['period', "'-01-01'"]) }} as date)
            when 'quarter' then {{ dbt.dateadd(
                'month',
                '3 * (cast(' ~ dbt.right('period', '1') ~ ' as ' ~ dbt.type_int() ~ ') - 1)',
                'cast(' ~ dbt.concat([dbt.split_part('period', "'-'", 1), "'-01-01'"]) ~ ' as date)'
            ) }}
            when 'month' then cast({{ dbt.concat(['period', "'-01'"]) }} as date)
            else cast(period as date)
        end as period_start
    from joined

),

final as (

    select
        kpi_code,
        measure,
        level,
        unit_code,
        period,
        period_kind,
        period_start,
        coalesce(
            period_end,
            case period_kind
                when 'year' then {{ dbt.dateadd('day', -1, dbt.dateadd('year', 1, 'period_start')) }}
                when 'quarter' then {{ dbt.dateadd('day', -1, dbt.dateadd('month', 3, 'period_start')) }}
                when 'month' then {{ dbt.last_day('period_start', 'month') }}
                else period_start
            end
        ) as period_end,
        value,
        series,
        release_name as release,
        release_date,
        load_id,
        source_row,
        source_key,
        row_number() over (
            partition by series, kpi_code, measure, level, coalesce(unit_code, ''), period
            order by release_date desc nulls last, load_sequence desc nulls last, loaded_at desc, load_id desc
        ) = 1 as is_current_release
    from dated

)

select * from final
