-- The unit of the national level, the country (seed dti_national_unit); rename only.
with

source as (

    select * from {{ ref('dti_national_unit') }}

),

final as (

    select
        unit_code,
        name_vi as unit_name_vi,
        name_en as unit_name_en
    from source

)

select * from final
