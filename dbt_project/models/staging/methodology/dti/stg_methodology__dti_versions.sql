-- DTI methodology versions, one per legal decision (seed); rename only.
with

source as (

    select * from {{ ref('dti_methodology_versions') }}

),

final as (

    select
        methodology_version,
        legal_basis,
        issued_on,
        total_points,
        levels,
        is_representative,
        note
    from source

)

select * from final
