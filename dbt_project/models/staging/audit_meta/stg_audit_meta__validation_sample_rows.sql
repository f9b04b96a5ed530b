-- meta.validation_sample_rows as recorded by the pipeline; rename only (docs/audit.md).
with

source as (

    select * from {{ source('audit_meta', 'validation_sample_rows') }}

),

final as (

    select * from source

)

select * from final
