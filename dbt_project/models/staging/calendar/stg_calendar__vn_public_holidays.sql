-- Public holidays, compensatory/swapped days off and make-up working days (seed); rename only.
with

source as (

    select * from {{ ref('vn_public_holidays') }}

),

final as (

    -- the seed's column is named date (a type name): kept quoted
    select
        "date" as holiday_date,  -- noqa: RF06
        holiday_name_vi,
        day_kind,
        source as holiday_source
    from source

)

select * from final
