-- Legal decisions defining the service index and the months each applies to (seed).
with

source as (

    select * from {{ ref('service_index_methodology_versions') }}

),

final as (

    select
        methodology_version,
        legal_basis,
        issued_on,
        applies_from_month,
        applies_to_month,
        points_source,
        note
    from source

)

select * from final
