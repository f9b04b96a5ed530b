-- meta.dbt_test_results as recorded by the pipeline; rename only (docs/audit.md).
with

source as (

    select * from {{ source('audit_meta', 'dbt_test_results') }}

),

final as (

    select * from source

)

select * from final
