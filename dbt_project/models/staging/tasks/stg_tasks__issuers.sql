-- Who assigns tasks besides the units of the unit registry (seed task_issuers).
with

source as (

    select * from {{ ref('task_issuers') }}

),

final as (

    select
        issuer_code,
        name_vi as issuer_name_vi,
        name_en as issuer_name_en,
        issuer_kind
    from source

)

select * from final
