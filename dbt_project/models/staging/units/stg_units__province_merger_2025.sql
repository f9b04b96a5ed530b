-- Old province code -> new province code, Resolution 202/2025/QH15 (seed); rename only.
with

source as (

    select * from {{ ref('units_province_merger_2025') }}

),

final as (

    select
        old_province_code,
        old_name_vi as old_province_name_vi,
        new_province_code,
        new_name_vi as new_province_name_vi,
        effective_date,
        'Nghị quyết 202/2025/QH15' as legal_basis
    from source

)

select * from final
