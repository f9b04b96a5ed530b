-- The status classes and the ministry's three-class scale (seed kpi_status_classes).
with

source as (

    select * from {{ ref('kpi_status_classes') }}

),

final as (

    select
        status_code,
        display_order,
        name_vi as status_name_vi,
        name_en as status_name_en,
        ministry_class_vi,
        ministry_class_en,
        off_track_severity,
        min_pace_ratio,
        rule as status_rule
    from source

)

select * from final
