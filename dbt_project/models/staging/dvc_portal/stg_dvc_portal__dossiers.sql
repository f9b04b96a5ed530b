-- Dossier rows of every monthly extract, valid or rejected; rename/cast only.
-- is_valid = no rejection_reason: the service index reads those; the auditors count the rest.
with

source as (

    select * from {{ source('dvc_portal', 'dossiers') }}

),

final as (

    select
        period_month,
        dossier_id,
        procedure_code,
        handling_agency_code,
        handling_agency_level,
        handling_agency_name,
        parent_unit_code as reported_unit_code,
        submitted_at,
        received_at,
        due_at,
        statutory_duration,
        statutory_duration_unit,
        {{ dbt.safe_cast('channel', dbt.type_int()) }} as channel,
        has_digitised_component,
        has_reused_digitised_data,
        has_personal_store_component,
        result_code,
        result_file_url,
        is_vneid_authenticated,
        population_db_code,
        {{ dbt.safe_cast('fee_amount', dbt.type_numeric()) }} as fee_amount,
        {{ dbt.safe_cast('online_payment_method', dbt.type_int()) }} as online_payment_method,
        is_electronic_certified_copy,
        rating,
        has_complaint,
        is_synced_to_portal,
        synced_at,
        source_id,
        source_row,
        loaded_at,
        rejection_rule,
        rejection_reason,
        rejection_reason is null as is_valid
    from source

)

select * from final
