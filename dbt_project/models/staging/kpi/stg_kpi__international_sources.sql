-- Which international-index component gives which KPI and measure (seed kpi_international_sources).
with

source as (

    select * from {{ ref('kpi_international_sources') }}

),

final as (

    select
        index_code,
        component,
        kpi_code,
        measure,
        derivation,
        fallback_component,
        publisher as index_publisher
    from source

)

select * from final
