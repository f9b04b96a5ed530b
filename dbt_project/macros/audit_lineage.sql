{#- What both score lineages (rpt_score_lineage, rpt_dti_score_lineage) read of the runs:
    written once here, and without QUALIFY so another adapter can run them. -#}

{#- Per period_month, the latest meta.run_provenance row of one index (the run that built it). -#}
{% macro latest_run_provenance(index_name) -%}
    select * from (
        select
            provenance.*,
            row_number() over (
                partition by provenance.period_month
                order by provenance.recorded_at desc, provenance.run_id
            ) as recency
        from {{ ref('stg_audit_meta__run_provenance') }} as provenance
        where provenance.index_name = '{{ index_name }}'
    ) as ranked
    where recency = 1
{%- endmacro %}

{#- Per period_month, every GX result of the latest validation run of one index. The index
    matters: a DTI year's validation is recorded on 1 January, the same period_month as the
    service index's January. -#}
{% macro latest_validation_results(index_name) -%}
    select * from (
        select
            results.*,
            first_value(results.run_id) over (
                partition by results.period_month
                order by results.validated_at desc, results.run_id desc
            ) as latest_run_id
        from {{ ref('stg_audit_meta__validation_results') }} as results
        where results.index_name = '{{ index_name }}'
    ) as ordered
    where run_id = latest_run_id
{%- endmacro %}
