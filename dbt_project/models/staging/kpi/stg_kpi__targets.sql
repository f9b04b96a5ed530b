-- The targets (seed kpi_targets): one row per target a document sets. target_id names the row
-- (a hash of everything that tells two targets apart: two documents, or two wordings of one
-- document, setting different values for the same KPI and year are two targets).
with

source as (

    select * from {{ ref('kpi_targets') }}

),

final as (

    select
        {{ dbt.hash(dbt.concat([
            "kpi_code", "'|'", "measure", "'|'", "level", "'|'", "coalesce(unit_code, '')", "'|'",
            dbt.cast("target_year", dbt.type_string()), "'|'", "comparator", "'|'",
            dbt.cast("target_value", dbt.type_string()), "'|'", "source_document", "'|'",
            "coalesce(source_key, '')"
        ])) }} as target_id,
        kpi_code,
        measure,
        level as target_level,
        unit_code as target_unit_code,
        target_year,
        comparator,
        target_value,
        source_document,
        source_date,
        source_key,
        note as target_note
    from source

)

select * from final
