-- The KPI catalogue (seed kpi_catalogue): one row per KPI; rename only.
with

source as (

    select * from {{ ref('kpi_catalogue') }}

),

final as (

    select
        kpi_code,
        pillar,
        name_vi,
        name_en,
        unit,
        direction,
        levels,
        source_kind,
        measured_by,
        frequency,
        platform_measurable,
        trend_method,
        trend_points,
        legal_basis,
        catalogue_version as methodology_version,
        note
    from source

)

select * from final
