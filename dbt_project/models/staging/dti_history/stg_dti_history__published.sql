-- Imported published DTI totals and ranks (raw.dti_history_published); rename only.
with

source as (

    {%- set columns = [
        ('year', dbt.type_int()), ('level', dbt.type_string()), ('unit_code', dbt.type_string()),
        ('dti_value', dxmon.type_double()), ('rank', dbt.type_int()),
        ('source_file', dbt.type_string()), ('source_row', dbt.type_int()),
        ('loaded_at', dbt.type_timestamp())
    ] %}
    select raw_table.* from {{ source_or_empty('dti_history', 'dti_history_published', columns) }} as raw_table

),

final as (

    select
        year,
        level,
        unit_code,
        dti_value as published_dti_value,
        rank as published_rank,
        source_file,
        source_row,
        loaded_at
    from source

)

select * from final
