-- Dossier status changes of every monthly extract, valid or rejected; rename/cast only.
-- is_valid = no rejection_reason: the service index reads those; the auditors count the rest.
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
        loaded_at,
        rejection_rule,
        rejection_reason,
        rejection_reason is null as is_valid
    from source

)

select * from final
