-- DTI years (seed): the methodology version each year is scored with, and the dates that pick
-- the unit set it is ranked on; rename only (plus the year's last day, used to resolve the unit
-- version a report was filed by).
with

source as (

    select * from {{ ref('dti_years') }}

),

final as (

    select
        year,
        methodology_version,
        units_as_of,
        ministry_units_as_of,
        report_deadline,
        cast({{ dbt.concat(["cast(year as " ~ dbt.type_string() ~ ")", "'-12-31'"]) }} as date) as year_end_date,
        note
    from source

)

select * from final
