-- Rows of the monthly procedure-catalogue snapshots, valid or rejected; rename/cast only.
-- is_valid = no rejection_reason: the service index reads those; the auditors count the rest.
with

source as (

    select * from {{ source('dvc_portal', 'procedures') }}

),

final as (

    select
        period_month,
        unit_code as reported_unit_code,
        procedure_code,
        procedure_name,
        announcement_decision_no,
        announced_on,
        legal_basis_effective_on,
        published_on,
        {{ dbt.safe_cast('mandatory_parts_present', dbt.type_int()) }} as mandatory_parts_present,
        online_service_level,
        is_full_online_eligible,
        has_fee,
        requires_paper_result,
        serves_citizens,
        is_certification_procedure,
        source_id,
        source_row,
        loaded_at,
        rejection_rule,
        rejection_reason,
        rejection_reason is null as is_valid
    from source

)

select * from final
