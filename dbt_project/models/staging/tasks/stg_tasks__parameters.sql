-- The task tracking parameters (seed task_tracking_parameters), typed: one row, one column per
-- parameter. The models read them from here only (the one source of each rule's setting).
with

source as (

    select * from {{ ref('task_tracking_parameters') }}

),

final as (

    select
        cast(max(case when parameter = 'warning_due_within_days' then value end) as integer)
            as warning_due_within_days,
        cast(max(case when parameter = 'overdue_share_rise_min_points' then value end) as {{ type_double() }})
            as overdue_share_rise_min_points,
        max(case when parameter = 'extension_requires_approval' then lower(value) end) = 'true'
            as extension_requires_approval,
        max(case when parameter = 'extension_approval_before_deadline' then lower(value) end) = 'true'
            as extension_approval_before_deadline,
        max(case when parameter = 'completion_requires_evidence' then lower(value) end) = 'true'
            as completion_requires_evidence
    from source

)

select * from final
