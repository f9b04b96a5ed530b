-- Every data row of a statistics file (raw.kpi_statistics_values), with its release; rejected
-- rows are kept and flagged (is_valid false).
with

source as (

    select * from {{ source('kpi_raw', 'kpi_statistics_values') }}

),

final as (

    select
        load_id,
        release,
        release_date,
        kpi_code,
        coalesce(measure, 'main') as measure,
        level,
        unit_code,
        period,
        period_end,
        cast(value as {{ type_double() }}) as value,
        publisher,
        source_key,
        source_row,
        rejection_rule is null as is_valid
    from source

)

select * from final
