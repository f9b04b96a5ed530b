-- Landed file versions and archived API pages (provenance); rename only.
with

source as (

    select * from {{ source('ingestion_log', 'ingested_sources') }}

),

final as (

    select
        source_id,
        extract_kind,
        period_month,
        source_type,
        location,
        original_location,
        sha256,
        size_bytes,
        row_count,
        rejected_count,
        loaded_at,
        superseded_at,
        superseded_at is null as is_current
    from source

)

select * from final
