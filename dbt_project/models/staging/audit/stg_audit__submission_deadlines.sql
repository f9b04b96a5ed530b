-- When each monthly extract is due, per index (seed audit_submission_deadlines: days after the
-- month's end, from valid_from on); rename only.
with

source as (

    select * from {{ ref('audit_submission_deadlines') }}

),

final as (

    select
        index_name,
        extract_kind,
        due_days_after_period_end,
        valid_from,
        note as deadline_note
    from source

)

select * from final
