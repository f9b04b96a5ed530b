-- Old ministry code -> new ministry code, Resolution 176/2025/QH15 (seed); rename only.
with

source as (

    select * from {{ ref('units_ministry_restructure_2025') }}

),

final as (

    select
        old_ministry_code,
        new_ministry_code,
        effective_date,
        legal_basis
    from source

)

select * from final
