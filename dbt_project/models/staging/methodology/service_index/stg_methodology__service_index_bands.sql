-- Score bands (configuration, not law; see the seed's basis column).
with

source as (

    select * from {{ ref('service_index_bands') }}

),

final as (

    select
        band_config_version,
        band_order,
        band_code,
        band_name_vi,
        band_name_en,
        min_score,
        max_score_exclusive,
        basis as band_basis
    from source

)

select * from final
