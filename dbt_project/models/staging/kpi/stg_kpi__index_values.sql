-- Every country, edition and component of an international-index file
-- (raw.international_index_values); rejected rows are kept and flagged (is_valid false).
with

source as (

    select * from {{ source('kpi_raw', 'international_index_values') }}

),

final as (

    select
        load_id,
        index_code,
        edition,
        country_code,
        country_name,
        component,
        cast(value as {{ type_double() }}) as value,
        source_row,
        rejection_rule is null as is_valid
    from source

)

select * from final
