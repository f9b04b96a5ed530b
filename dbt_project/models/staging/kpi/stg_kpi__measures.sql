-- The measures of each KPI (seed kpi_measures): unit and direction per measure.
with

source as (

    select * from {{ ref('kpi_measures') }}

),

final as (

    select
        kpi_code,
        measure,
        unit as measure_unit,
        direction as measure_direction,
        report_levels
    from source

)

select * from final
