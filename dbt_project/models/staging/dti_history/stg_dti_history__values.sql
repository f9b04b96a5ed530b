-- Imported published main-indicator values (raw.dti_history_values); rename only.
with

source as (

    {%- set columns = [
        ('year', dbt.type_int()), ('level', dbt.type_string()), ('unit_code', dbt.type_string()),
        ('indicator_code', dbt.type_string()), ('value', dxmon.type_double()),
        ('source_file', dbt.type_string()), ('source_row', dbt.type_int()),
        ('loaded_at', dbt.type_timestamp())
    ] %}
    select raw_table.* from {{ source_or_empty('dti_history', 'dti_history_values', columns) }} as raw_table

),

final as (

    select
        year,
        level,
        unit_code,
        indicator_code,
        value as published_value,
        source_file,
        source_row,
        loaded_at
    from source

)

select * from final
