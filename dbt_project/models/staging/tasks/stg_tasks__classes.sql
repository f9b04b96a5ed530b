-- The computed classes (seed task_classes); the rule column is the classification spec.
with

source as (

    select * from {{ ref('task_classes') }}

),

final as (

    select
        class_code,
        name_vi as class_name_vi,
        name_en as class_name_en,
        class_group,
        is_completed as is_completed_class,
        is_overdue as is_overdue_class,
        is_due as is_due_class,
        is_recurring as is_recurring_class,
        display_order as class_display_order,
        rule as class_rule
    from source

)

select * from final
