-- meta.period_status as recorded by the pipeline; rename only (docs/audit.md).
with

source as (

    select * from {{ source('audit_meta', 'period_status') }}

),

final as (

    select * from source

)

select * from final
