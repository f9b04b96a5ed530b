{{ config(materialized='view') }}
-- Every check of every run: one row per GX expectation per batch, and per dbt test per month of
-- its invocation's window (docs/audit.md). Kept across runs; run_id says which run checked.
--   check_source     great_expectations | dbt
--   suite_or_test    GX suite name, or the dbt test's name
--   sample_row_ids   JSON list of ids of offending rows ('<source_id>#<source_row>', 'unit:<code>',
--                    or the tested model's key) for failed checks
-- A view: the history grows in both jobs (the DTI job validates and tests after this model's
-- job has built), so it reads the meta tables as they are when queried; it is small.
with

gx_results as (

    select * from {{ ref('stg_audit_meta__validation_results') }}

),

gx_samples as (

    select * from {{ ref('stg_audit_meta__validation_sample_rows') }}

),

dbt_results as (

    select * from {{ ref('stg_audit_meta__dbt_test_results') }}

),

gx_history as (

    select
        gx_results.index_name,
        gx_results.run_id,
        gx_results.period_month,
        'great_expectations' as check_source,
        gx_results.suite_name as suite_or_test,
        gx_results.expectation,
        gx_results.column_name,
        gx_results.extract_kind as checked_object,
        gx_results.is_blocking,
        gx_results.success,
        case when gx_results.success then 'pass' else 'fail' end as status,
        gx_results.observed_value,
        gx_results.unexpected_count,
        gx_results.element_count,
        gx_samples.sample_row_ids,
        gx_results.details,
        gx_results.validated_at as checked_at
    from gx_results
    left join gx_samples
        on gx_samples.run_id = gx_results.run_id
        and gx_samples.period_month = gx_results.period_month
        and gx_samples.suite_name = gx_results.suite_name
        and gx_samples.expectation = gx_results.expectation
        and coalesce(gx_samples.column_name, '') = coalesce(gx_results.column_name, '')

),

dbt_history as (

    select
        case when dbt_results.test_unique_id like '%dti%' then 'dti' else 'service_index' end as index_name,
        dbt_results.run_id,
        dbt_results.period_month,
        'dbt' as check_source,
        dbt_results.test_name as suite_or_test,
        dbt_results.test_unique_id as expectation,
        dbt_results.column_name,
        dbt_results.model_name as checked_object,
        dbt_results.is_blocking,
        dbt_results.success,
        dbt_results.status,
        dbt_results.message as observed_value,
        dbt_results.failures as unexpected_count,
        cast(null as bigint) as element_count,
        dbt_results.sample_row_ids,
        cast(null as varchar) as details,
        dbt_results.executed_at as checked_at
    from dbt_results

),

final as (

    select * from gx_history
    union all
    select * from dbt_history

)

select * from final
