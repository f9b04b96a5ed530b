-- meta.validation_results as recorded by the pipeline; rename only (docs/audit.md).
with

source as (

    select * from {{ source('audit_meta', 'validation_results') }}

),

final as (

    select * from source

)

select * from final
