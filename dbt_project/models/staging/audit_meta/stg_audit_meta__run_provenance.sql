-- meta.run_provenance as recorded by the pipeline; rename only (docs/audit.md).
with

source as (

    select * from {{ source('audit_meta', 'run_provenance') }}

),

final as (

    select * from source

)

select * from final
