-- DTI-UNIT: each ministry's and province's DTI from the DTI ranking (rpt_dti_ranking):
-- measure main = the index value (total points / 1000), measure rank = its competition rank in
-- its ranking group. Final scores of closed years are series 'platform' (period YYYY); the
-- provisional month-end scores are a series of their own, 'platform_provisional' (period
-- YYYY-MM), so a trend never mixes the two.
with

ranking as (

    -- the DTI's ranking when the DTI has been built (macros/kpi_sources.sql)
    {{ kpi_mart_or_empty('rpt_dti_ranking', [
        ('year', dbt.type_int()), ('period_month', 'date'), ('as_of_date', 'date'),
        ('level', dbt.type_string()), ('unit_code', dbt.type_string()), ('dti_value', type_double()),
        ('rank', dbt.type_int()), ('is_provisional', dbt.type_boolean()),
        ('methodology_version', dbt.type_string())]) }}

),

dated as (

    select
        ranking.*,
        case when is_provisional then 'platform_provisional' else 'platform' end as series,
        case
            when is_provisional then {{ kpi_month_key('period_month') }}
            else {{ dbt.cast('year', dbt.type_string()) }}
        end as period,
        case when is_provisional then 'month' else 'year' end as period_kind,
        case when is_provisional then period_month else {{ kpi_year_start('year') }} end as period_start,
        case
            when is_provisional then coalesce(as_of_date, {{ dbt.last_day('period_month', 'month') }})
            else {{ kpi_year_end('year') }}
        end as period_end
    from ranking

),

final as (

    select
        'DTI-UNIT' as kpi_code, 'main' as measure, level, unit_code, year, series, period, period_kind,
        period_start, period_end, dti_value as value, is_provisional, methodology_version
    from dated
    union all
    select
        'DTI-UNIT' as kpi_code, 'rank' as measure, level, unit_code, year, series, period, period_kind,
        period_start, period_end, cast(rank as {{ type_double() }}) as value, is_provisional, methodology_version
    from dated

)

select * from final
