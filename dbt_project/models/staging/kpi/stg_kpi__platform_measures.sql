-- Platform KPIs and the service-index measures they are computed from (seed kpi_platform_measures).
with

source as (

    select * from {{ ref('kpi_platform_measures') }}

),

final as (

    select
        kpi_code,
        measure,
        numerator_measure,
        denominator_measure,
        scale,
        service_index_indicator
    from source

)

select * from final
