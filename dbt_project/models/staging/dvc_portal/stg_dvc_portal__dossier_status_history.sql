-- Valid status changes of every monthly extract; rename/cast only.
with

source as (

    select * from {{ source('dvc_portal', 'dossier_status_history') }}

),

final as (

    select
        period_month,
        dossier_id,
        parent_unit_code as reported_unit_code,
        status_code,
        status_at,
        source_id,
        source_row,
        loaded_at
    from source
    where rejection_reason is null

)

select * from final
