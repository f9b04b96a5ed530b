-- The 63 pre-merger provinces (seed); rename only.
with

source as (

    select * from {{ ref('units_provinces_63') }}

),

final as (

    select
        province_code,
        name_vi as province_name_vi,
        name_ascii as province_name_ascii,
        region_vi,
        region_en,
        unit_type
    from source

)

select * from final
