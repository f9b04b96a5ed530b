-- Complaint (PAKN) rows of every monthly extract, valid or rejected; rename/cast only.
-- is_valid = no rejection_reason: the service index reads those; the auditors count the rest.
with

source as (

    select * from {{ source('dvc_portal', 'complaints') }}

),

final as (

    select
        period_month,
        complaint_id,
        unit_code as reported_unit_code,
        complaint_type,
        received_at,
        transferred_at,
        rejected_at,
        first_supplement_request_at,
        processed_at,
        published_at,
        {{ dbt.safe_cast('likes', dbt.type_int()) }} as likes,
        {{ dbt.safe_cast('dislikes', dbt.type_int()) }} as dislikes,
        is_re_raised,
        dossier_id,
        source_id,
        source_row,
        loaded_at,
        rejection_rule,
        rejection_reason,
        rejection_reason is null as is_valid
    from source

)

select * from final
