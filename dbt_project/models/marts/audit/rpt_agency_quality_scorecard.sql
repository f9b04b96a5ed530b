-- The agencies' data-quality scorecard: one row per index, month and reporting unit (the code
-- as reported). Analysts and auditors query it like any mart.
--   submitted_on_time      every extract carrying the unit's rows was received by its deadline
--                          (seeds/audit/audit_submission_deadlines.csv: days after the month's end)
--   extracts_submitted     extracts (of 4) with at least one row of the unit
--   completeness_ratio     valid dossiers this month / mean of the 3 previous months (null
--                          without history); is_flagged_by_validation from the GX completeness check
--   rejected_share, rejections_by_rule   rows rejected and why
--   resubmissions          file versions replaced during the month (the extracts are national:
--                          a replaced file counts for every unit it carries)
--   self_reported_divergence   null for the service index (every value is measured); the DTI's
--                          self-reported vs measured divergence belongs here when its marts exist
with

unit_rows as (

    select * from {{ ref('int_audit_rows_by_unit') }}

),

by_unit as (

    select * from {{ ref('rpt_data_quality_by_unit') }}

),

sources as (

    select * from {{ ref('stg_ingestion_log__ingested_sources') }}

),

deadlines as (

    select * from {{ ref('stg_audit__submission_deadlines') }}
    where index_name = 'service_index'

),

received as (

    -- when each extract carrying the unit's rows first arrived, against its deadline
    select
        unit_rows.period_month,
        unit_rows.reported_unit_code,
        unit_rows.extract_kind,
        min(sources.loaded_at) as first_received_at,
        max(cast({{ dbt.dateadd('day', 'deadlines.due_days_after_period_end',
            dbt.dateadd('month', 1, 'unit_rows.period_month')) }} as timestamp)) as due_at
    from unit_rows
    inner join sources
        on sources.source_id = unit_rows.source_id
    left join deadlines
        on deadlines.extract_kind = unit_rows.extract_kind
        and cast(deadlines.valid_from as date) <= unit_rows.period_month
    group by 1, 2, 3

),

timeliness as (

    select
        period_month,
        reported_unit_code,
        count(distinct extract_kind) as extracts_submitted,
        max(first_received_at) as last_extract_received_at,
        min(due_at) as due_at,
        bool_and(first_received_at <= due_at) as submitted_on_time
    from received
    group by 1, 2

),

monthly_dossiers as (

    select period_month, reported_unit_code, sum(row_count) as valid_dossiers
    from unit_rows
    where extract_kind = 'dossiers' and rejection_rule is null
    group by 1, 2

),

completeness as (

    select
        this_month.period_month,
        this_month.reported_unit_code,
        this_month.valid_dossiers,
        (
            select avg(previous.valid_dossiers)
            from monthly_dossiers as previous
            where previous.reported_unit_code = this_month.reported_unit_code
                and previous.period_month >= {{ dbt.dateadd('month', -3, 'this_month.period_month') }}
                and previous.period_month < this_month.period_month
        ) as previous_months_mean
    from monthly_dossiers as this_month

),

resubmissions as (

    select period_month, count(case when superseded_at is not null then 1 end) as resubmissions
    from sources
    group by 1

),

quality as (

    select
        period_month,
        reported_unit_code,
        sum(rows_loaded) as rows_loaded,
        sum(rows_rejected) as rows_rejected,
        -- (a null rejections_by_rule makes the whole text null, which string_agg skips)
        string_agg(extract_kind || ' [' || rejections_by_rule || ']', '; ' order by extract_kind)
            as rejections_by_rule,
        bool_or(is_flagged_by_validation) as is_flagged_by_validation,
        string_agg(flagged_by_checks, '; ' order by extract_kind) as flagged_by_checks
    from by_unit
    group by 1, 2

),

final as (

    select
        'service_index' as index_name,
        quality.period_month,
        quality.reported_unit_code,
        timeliness.extracts_submitted,
        timeliness.last_extract_received_at,
        timeliness.due_at,
        coalesce(timeliness.submitted_on_time, false) as submitted_on_time,
        completeness.valid_dossiers,
        completeness.previous_months_mean,
        round(completeness.valid_dossiers / nullif(completeness.previous_months_mean, 0), 4) as completeness_ratio,
        quality.is_flagged_by_validation,
        quality.flagged_by_checks,
        quality.rows_loaded,
        quality.rows_rejected,
        round(quality.rows_rejected / nullif(quality.rows_loaded, 0), 6) as rejected_share,
        quality.rejections_by_rule,
        coalesce(resubmissions.resubmissions, 0) as resubmissions,
        cast(null as double) as self_reported_divergence
    from quality
    left join timeliness
        on timeliness.period_month = quality.period_month
        and timeliness.reported_unit_code = quality.reported_unit_code
    left join completeness
        on completeness.period_month = quality.period_month
        and completeness.reported_unit_code = quality.reported_unit_code
    left join resubmissions
        on resubmissions.period_month = quality.period_month

)

select * from final
