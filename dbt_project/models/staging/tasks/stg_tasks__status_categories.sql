-- The reported status vocabulary (seed task_status_categories); key_task is a flag, not a
-- status, and is left out.
with

source as (

    select * from {{ ref('task_status_categories') }}
    where status_code <> 'key_task'

),

final as (

    select
        status_code,
        name_vi as status_name_vi,
        name_en as status_name_en,
        coalesce(is_completed, false) as is_completed_status,
        is_overdue as is_overdue_status,
        coalesce(is_recurring, false) as is_recurring_status,
        note as status_note
    from source

)

select * from final
