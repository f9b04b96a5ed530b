-- One row per version of a ranked unit (provinces before and after the 2025 merger, ministries
-- with their validity dates). Join facts on unit_code and the month's validity, never on names.
with

units as (

    select * from {{ ref('int_units_unioned') }}

),

final as (

    select
        unit_key,
        unit_code,
        unit_name,
        unit_level,
        unit_type,
        dti_group,
        region_vi,
        region_en,
        valid_from,
        valid_to,
        is_current,
        is_ranked_in_service_index
    from units

)

select * from final
