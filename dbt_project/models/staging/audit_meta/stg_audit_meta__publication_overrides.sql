-- meta.publication_overrides as recorded by the pipeline; rename only (docs/audit.md).
with

source as (

    select * from {{ source('audit_meta', 'publication_overrides') }}

),

final as (

    select * from source

)

select * from final
