-- The publication gate of task tracking (meta.publication_gate, index 'tasks'): one row per
-- validated status-report month (period_key YYYY-MM) with its publication basis now. A month
-- absent from it was never validated: the marts read it as 'withheld'.
with

source as (

    select * from {{ source('tasks_meta', 'publication_gate') }}
    where index_name = 'tasks'

),

final as (

    select
        period_key,
        period_start as period_month,
        is_publishable,
        publication_basis,
        override_id
    from source

)

select * from final
