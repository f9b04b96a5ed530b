{{ config(materialized='table') }}
-- One row per validated month of the service index (meta.publication_gate, index
-- 'service_index'), with its publication basis now (checks_passed | override | withheld) and the
-- override it is published on. A month absent from it was never validated: a period counts it
-- as missing. A table, not a view: every model of intermediate/service_index inherits the
-- folder's window delete (dbt_project.yml), which a view cannot take; it is a few rows.
with

source as (

    select * from {{ source('service_index_meta', 'publication_gate') }}
    where index_name = 'service_index'

),

final as (

    select
        cast(period_start as date) as period_month,
        period_key,
        is_publishable,
        publication_basis,
        override_id
    from source

)

select * from final
