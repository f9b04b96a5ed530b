-- One row per scoring context, reporting unit and sub-indicator of the catalogue (year's
-- methodology version and the unit's level): the value used, where it came from, and the
-- points earned by the sub-indicator's rule (docs/methodology_dti.md "Scoring rules"):
--   ratio      min(ratio / ratio_target, 1) x max_points; ratio = numerator / denominator when
--              counts were reported, else the reported share; ratio_target NULL = 1
--   threshold  points_share of the band [lower_bound, upper_bound) holding the value x max_points
--   checklist  min(items met / checklist_items, 1) x max_points
--   boolean    max_points when the value is 1, else 0
-- An `automatic` sub-indicator takes the service-index measurement when one exists (its source
-- recorded); the self-reported value only when none does. A sub-indicator without a usable
-- value earns 0 and is flagged (is_missing).
with

reports as (

    select * from {{ ref('int_dti_reports_selected') }}

),

catalogue as (

    select * from {{ ref('stg_methodology__dti_indicators') }}
    where node_type = 'sub'

),

report_values as (

    -- one row per submission and indicator (the first row of the file if repeated)
    select *
    from (
        select
            report_values.*,
            row_number() over (
                partition by submission_id, indicator_code
                order by source_row
            ) as occurrence
        from {{ ref('stg_dti_reports__report_values') }} as report_values
        where report_values.is_accepted
    ) as numbered
    where occurrence = 1

),

automatic as (

    select * from {{ ref('int_dti_automatic_measures') }}

),

bands as (

    select * from {{ ref('stg_methodology__dti_rule_bands') }}

),

joined as (

    select
        reports.context_key,
        reports.year,
        reports.period_month,
        reports.is_provisional,
        reports.methodology_version,
        reports.level,
        reports.reporting_unit_code,
        reports.reporting_unit_key,
        reports.unit_code,
        reports.unit_key,
        reports.submission_id,
        catalogue.main_code,
        catalogue.indicator_code,
        catalogue.display_order,
        catalogue.scoring_rule,
        catalogue.max_points,
        catalogue.ratio_target,
        catalogue.checklist_items,
        catalogue.source_kind,
        catalogue.automatic_measure,
        catalogue.is_evidence_required,
        report_values.reported_value,
        report_values.reported_numerator,
        report_values.reported_denominator,
        report_values.evidence,
        report_values.source_row,
        case
            when report_values.reported_numerator is not null and report_values.reported_denominator > 0
                then report_values.reported_numerator / report_values.reported_denominator
            else report_values.reported_value
        end as self_reported_quantity,
        automatic.automatic_ratio,
        automatic.automatic_source
    from reports
    inner join catalogue
        on catalogue.methodology_version = reports.methodology_version
        and catalogue.level = reports.level
    left join report_values
        on report_values.submission_id = reports.submission_id
        and report_values.indicator_code = catalogue.indicator_code
    left join automatic
        on automatic.context_key = reports.context_key
        and automatic.level = reports.level
        and automatic.reporting_unit_code = reports.reporting_unit_code
        and automatic.automatic_measure = catalogue.automatic_measure
        and automatic.automatic_ratio is not null

),

valued as (

    select
        joined.*,
        case
            when automatic_ratio is not null then 'automatic'
            when self_reported_quantity is not null then 'self_report'
            else 'missing'
        end as value_source,
        coalesce(automatic_ratio, self_reported_quantity) as scored_value
    from joined

),

shared as (

    select
        valued.*,
        case
            when valued.scored_value is null then 0
            when valued.scoring_rule = 'ratio'
                then least(greatest(valued.scored_value / coalesce(nullif(valued.ratio_target, 0), 1), 0), 1)
            when valued.scoring_rule = 'threshold'
                then coalesce(bands.points_share, 0)
            when valued.scoring_rule = 'checklist'
                then least(greatest(valued.scored_value / nullif(valued.checklist_items, 0), 0), 1)
            when valued.scoring_rule = 'boolean'
                then case when valued.scored_value = 1 then 1 else 0 end
        end as points_share
    from valued
    left join bands
        on valued.scoring_rule = 'threshold'
        and bands.methodology_version = valued.methodology_version
        and bands.level = valued.level
        and bands.indicator_code = valued.indicator_code
        and valued.scored_value >= bands.lower_bound
        and (bands.upper_bound is null or valued.scored_value < bands.upper_bound)

),

final as (

    select
        context_key,
        year,
        period_month,
        is_provisional,
        methodology_version,
        level,
        reporting_unit_code,
        reporting_unit_key,
        unit_code,
        unit_key,
        submission_id,
        source_row,
        main_code,
        indicator_code,
        display_order,
        scoring_rule,
        max_points,
        source_kind,
        automatic_measure,
        reported_value,
        reported_numerator,
        reported_denominator,
        self_reported_quantity,
        automatic_ratio,
        scored_value,
        value_source,
        case
            when value_source = 'automatic' then automatic_source
            when value_source = 'self_report'
                then {{ dbt.concat(["submission_id", "' row '", "cast(source_row as " ~ dbt.type_string() ~ ")"]) }}
        end as value_provenance,
        evidence,
        points_share,
        points_share * max_points as earned_points,
        value_source = 'missing' as is_missing,
        (is_evidence_required and value_source = 'self_report'
            and (evidence is null or trim(evidence) = '')) as is_evidence_missing
    from shared

)

select * from final
