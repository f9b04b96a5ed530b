-- The ageing buckets of overdue tasks (seed task_ageing_buckets): days past the deadline in
-- force, min_days and max_days inclusive, max_days NULL = open-ended.
with

source as (

    select * from {{ ref('task_ageing_buckets') }}

),

final as (

    select
        bucket_code as ageing_bucket_code,
        label_vi as ageing_bucket_label_vi,
        label_en as ageing_bucket_label_en,
        min_days,
        max_days,
        display_order as ageing_bucket_order
    from source

)

select * from final
