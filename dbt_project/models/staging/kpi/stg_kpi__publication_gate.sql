-- The publication gate (meta.publication_gate): one row per validated period of every gated
-- index with its publication basis now. A period absent from it was never validated: withheld.
with

source as (

    select * from {{ source('kpi_meta', 'publication_gate') }}

),

final as (

    select
        index_name,
        period_key,
        period_start,
        is_publishable,
        publication_basis,
        override_id
    from source

)

select * from final
