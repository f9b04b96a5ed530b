-- Public holidays, compensatory/swapped days off and make-up working days (seed); rename only.
with

source as (

    select * from {{ ref('vn_public_holidays') }}

),

final as (

    select
        "date" as holiday_date,
        holiday_name_vi,
        day_kind,
        source as holiday_source
    from source

)

select * from final
