-- Ministries and government agencies with validity dates (seed); rename only.
with

source as (

    select * from {{ ref('units_ministries') }}

),

final as (

    select
        ministry_code,
        name_vi as ministry_name_vi,
        name_en as ministry_name_en,
        agency_type,
        dti_group,
        valid_from,
        valid_to
    from source

)

select * from final
