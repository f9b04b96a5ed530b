-- Accepted DTI report files (raw.dti_submissions, every version); rename/cast only. Rejected
-- files stay in raw for the auditors.
with

source as (

    select * from {{ source('dti_reports', 'dti_submissions') }}

),

final as (

    select
        submission_id,
        year,
        folder_unit_code,
        unit_code,
        level,
        report_year,
        report_date,
        version as submission_version,
        received_at,
        archived_path,
        sha256,
        methodology_version as template_methodology_version
    from source
    where status = 'accepted'
        and unit_code is not null

)

select * from final
