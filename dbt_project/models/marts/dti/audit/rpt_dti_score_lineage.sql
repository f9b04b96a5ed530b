-- Period-scoped incremental (dbt_project.yml), but keyed on the scoring context (context_key).
{{ config(unique_key='context_key') }}
-- Lineage of every DTI score (docs/audit.md): one row per scoring context (provisional month, or
-- 'final:<year>' when the year is closed), ranked unit, reporting unit and sub-indicator of the
-- catalogue. A sibling of rpt_score_lineage, not rows in it: the DTI's grain (year / context,
-- main and sub indicator, one cell of one report file) is not the service index's (month,
-- indicator, input source), and this model must build in the DTI job (tag dti), after the DTI
-- scores, while rpt_score_lineage builds in the service-index job before them.
-- Says the unit's DTI value and total; the main indicator's value, points and weights_basis; the
-- sub-indicator's value, points, rule and methodology version; where the value came from: the
-- report cell (file archived path, sha256, version, report date, sheet, row, raw cell text) or the
-- service-index measurement (indicator, months); the row's validation status and the year's
-- failed checks; and the run, code version and input hash that built it (provisional months:
-- meta.run_provenance, index 'dti'; final rows: the year's closure, meta.dti_year_closures).
with

sub_scores as (

    select * from {{ ref('int_dti_sub_indicator_scores') }}
    where not is_provisional
        or {{ in_period_window('period_month') }}

),

scores as (

    select * from {{ ref('int_dti_scores') }}

),

main_values as (

    select * from {{ ref('int_dti_main_indicator_values') }}

),

weights as (

    select * from {{ ref('int_dti_main_weights') }}

),

automatic as (

    select * from {{ ref('int_dti_automatic_measures') }}

),

submissions as (

    select * from {{ ref('stg_dti_reports__submissions') }}

),

report_rows as (

    select * from {{ ref('stg_dti_reports__report_values') }}

),

period_status as (

    select * from {{ ref('stg_audit_meta__period_status') }}

),

provenance as (

    {{ latest_run_provenance('dti') }}

),

closures as (

    select * from {{ ref('stg_dti_meta__year_closures') }}

),

latest_dti_validation as (

    -- each year's latest DTI validation run (period_month = 1 January of the year)
    {{ latest_validation_results('dti') }}

),

dti_validation as (

    select
        cast(extract(year from period_month) as {{ dbt.type_int() }}) as year,
        string_agg(case when not success then suite_name || ': ' || expectation
            || coalesce(' on ' || column_name, '') end, '; '
            order by suite_name, expectation, column_name) as year_failed_checks
    from latest_dti_validation
    group by 1

),

rejected_rows as (

    -- why a sub-indicator of the selected report has no usable value (first rejected row)
    select *
    from report_rows
    where not is_accepted
    qualify row_number() over (partition by submission_id, indicator_code order by source_row) = 1

),

accepted_rows as (

    select *
    from report_rows
    where is_accepted

),

final as (

    select
        'dti' as index_name,
        sub_scores.context_key,
        sub_scores.year,
        sub_scores.period_month,
        sub_scores.is_provisional,
        sub_scores.level,
        sub_scores.unit_code,
        scores.unit_name,
        sub_scores.reporting_unit_code,
        sub_scores.methodology_version,
        scores.dti_value,
        scores.total_points,
        scores.weights_basis as score_weights_basis,
        sub_scores.main_code,
        main_values.value as main_value,
        weights.max_points as main_points,
        weights.weights_basis,
        main_values.value * weights.max_points as main_weighted_points,
        sub_scores.indicator_code,
        sub_scores.scoring_rule,
        sub_scores.max_points,
        sub_scores.source_kind,
        sub_scores.value_source,
        sub_scores.scored_value as value,
        sub_scores.points_share,
        sub_scores.earned_points as points,
        sub_scores.is_missing,
        sub_scores.is_evidence_missing,
        sub_scores.evidence,
        sub_scores.reported_value,
        sub_scores.reported_numerator,
        sub_scores.reported_denominator,
        sub_scores.submission_id,
        submissions.submission_version,
        submissions.report_date,
        submissions.received_at,
        submissions.inbox_path,
        submissions.archived_path,
        submissions.sha256,
        coalesce(accepted_rows.sheet, rejected_rows.sheet) as sheet,
        coalesce(accepted_rows.source_row, rejected_rows.source_row) as source_row,
        coalesce(accepted_rows.raw_value, rejected_rows.raw_value) as raw_value,
        sub_scores.automatic_measure,
        sub_scores.automatic_ratio,
        automatic.service_index_indicator_code as automatic_indicator_code,
        automatic.first_month as automatic_first_month,
        automatic.last_month as automatic_last_month,
        case when sub_scores.value_source = 'automatic' then automatic.automatic_source end as automatic_source,
        case
            when sub_scores.value_source = 'automatic' then 'measured'
            when sub_scores.value_source = 'self_report' then 'passed'
            when rejected_rows.rejection_rule is not null then 'rejected'
            else 'missing'
        end as validation_status,
        rejected_rows.rejection_rule,
        rejected_rows.rejection_reason,
        dti_validation.year_failed_checks,
        automatic_status.is_publishable as automatic_month_is_publishable,
        -- a provisional month: the DTI run that built it; the final index: the close-year run
        coalesce(provenance.run_id, closures.run_id) as run_id,
        coalesce(provenance.code_version, closures.code_version) as code_version,
        coalesce(provenance.input_hash, closures.input_hash) as input_hash
    from sub_scores
    -- only ranked units that were scored (a refusal scores nobody of the version and level)
    inner join scores
        on scores.context_key = sub_scores.context_key
        and scores.level = sub_scores.level
        and scores.unit_code = sub_scores.unit_code
    left join main_values
        on main_values.context_key = sub_scores.context_key
        and main_values.level = sub_scores.level
        and main_values.unit_code = sub_scores.unit_code
        and main_values.indicator_code = sub_scores.main_code
    left join weights
        on weights.methodology_version = sub_scores.methodology_version
        and weights.level = sub_scores.level
        and weights.indicator_code = sub_scores.main_code
    left join automatic
        on automatic.context_key = sub_scores.context_key
        and automatic.level = sub_scores.level
        and automatic.reporting_unit_code = sub_scores.reporting_unit_code
        and automatic.automatic_measure = sub_scores.automatic_measure
    left join submissions
        on submissions.submission_id = sub_scores.submission_id
    left join accepted_rows
        on accepted_rows.submission_id = sub_scores.submission_id
        and accepted_rows.indicator_code = sub_scores.indicator_code
        and accepted_rows.source_row = sub_scores.source_row
    left join rejected_rows
        on sub_scores.source_row is null
        and rejected_rows.submission_id = sub_scores.submission_id
        and rejected_rows.indicator_code = sub_scores.indicator_code
    left join dti_validation
        on dti_validation.year = sub_scores.year
    left join period_status as automatic_status
        on automatic_status.period_month = automatic.last_month
    left join provenance
        on sub_scores.is_provisional
        and provenance.period_month = sub_scores.period_month
    left join closures
        on not sub_scores.is_provisional
        and closures.year = sub_scores.year

)

select * from final
