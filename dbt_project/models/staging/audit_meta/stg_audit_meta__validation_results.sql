-- meta.validation_results as recorded by the pipeline (docs/audit.md), with the index each
-- result belongs to (the DTI's reports are extract 'dti_reports').
with

source as (

    select * from {{ source('audit_meta', 'validation_results') }}

),

final as (

    select
        source.*,
        case when source.extract_kind like 'dti%' then 'dti' else 'service_index' end as index_name
    from source

)

select * from final
