-- Closed DTI years (meta.dti_year_closures, declared in ingestion/core/schema.py and written by
-- `dxmon dti close-year`): the run, code version and input hash of each year's final index, for
-- the lineage of its final rows.
with

source as (

    select * from {{ source('dti_meta', 'dti_year_closures') }}

),

final as (

    select
        cast(year as {{ dbt.type_int() }}) as year,
        methodology_version,
        input_hash,
        closed_at,
        closed_by,
        run_id,
        code_version
    from source

)

select * from final
