-- meta.raw_archive as recorded by the pipeline; rename only (docs/audit.md).
with

source as (

    select * from {{ source('audit_meta', 'raw_archive') }}

),

final as (

    select * from source

)

select * from final
