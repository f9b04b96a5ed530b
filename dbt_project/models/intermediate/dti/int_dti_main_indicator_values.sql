-- One row per scoring context, ranked unit and top-level node (main indicator; pillar under
-- 1726_2020): value = points earned / max points of its sub-indicators, in [0, 1].
-- A ranked unit fed by several reporting units (a province formed by the 2025 merger, scored
-- for a year whose units_as_of is after it) takes the plain, unweighted mean of its
-- predecessors' values (docs/methodology_dti.md "2025 reorganisation"); the total follows by the formula.
with

sub_scores as (

    select * from {{ ref('int_dti_sub_indicator_scores') }}

),

reports as (

    select * from {{ ref('int_dti_reports_selected') }}

),

main_nodes as (

    select * from {{ ref('stg_methodology__dti_indicators') }}
    where is_top_level

),

per_reporting_unit as (

    select
        context_key,
        level,
        reporting_unit_code,
        main_code,
        {{ exact_sum('earned_points') }} as earned_points,
        {{ exact_sum('max_points') }} as max_points,
        count(*) as sub_indicators_expected,
        sum(case when is_missing then 1 else 0 end) as missing_sub_indicators
    from sub_scores
    group by 1, 2, 3, 4

),

reporting_unit_values as (

    select
        reports.context_key,
        reports.year,
        reports.period_month,
        reports.as_of_date,
        reports.is_provisional,
        reports.methodology_version,
        reports.level,
        reports.unit_code,
        reports.unit_key,
        reports.unit_name,
        reports.unit_group,
        reports.reporting_unit_code,
        reports.reporting_unit_key,
        per_reporting_unit.main_code,
        per_reporting_unit.earned_points,
        per_reporting_unit.max_points,
        case
            when per_reporting_unit.max_points > 0
                then per_reporting_unit.earned_points / per_reporting_unit.max_points
        end as value,
        per_reporting_unit.sub_indicators_expected,
        per_reporting_unit.missing_sub_indicators
    from reports
    inner join per_reporting_unit
        on per_reporting_unit.context_key = reports.context_key
        and per_reporting_unit.level = reports.level
        and per_reporting_unit.reporting_unit_code = reports.reporting_unit_code

),

averaged as (

    select
        context_key,
        year,
        period_month,
        as_of_date,
        is_provisional,
        methodology_version,
        level,
        unit_code,
        unit_key,
        unit_name,
        unit_group,
        main_code,
        -- plain mean over the reporting units (exact sum: reproducible to the byte)
        {{ exact_sum('value') }} / count(value) as value,
        count(distinct reporting_unit_code) as reporting_unit_count,
        -- values re-attributed from other (pre-merger) units than the ranked one
        (count(distinct reporting_unit_code) > 1
            or max(case when reporting_unit_code <> unit_code then 1 else 0 end) = 1) as is_merged_average,
        sum(sub_indicators_expected) as sub_indicators_expected,
        sum(missing_sub_indicators) as missing_sub_indicators
    from reporting_unit_values
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12

),

final as (

    select
        averaged.context_key,
        averaged.year,
        averaged.period_month,
        averaged.as_of_date,
        averaged.is_provisional,
        averaged.methodology_version,
        averaged.level,
        averaged.unit_code,
        averaged.unit_key,
        averaged.unit_name,
        averaged.unit_group,
        averaged.main_code as indicator_code,
        main_nodes.node_type,
        main_nodes.indicator_name_vi,
        main_nodes.indicator_name_en,
        main_nodes.display_order,
        averaged.value,
        averaged.reporting_unit_count,
        averaged.is_merged_average,
        averaged.sub_indicators_expected,
        averaged.missing_sub_indicators
    from averaged
    inner join main_nodes
        on main_nodes.methodology_version = averaged.methodology_version
        and main_nodes.level = averaged.level
        and main_nodes.indicator_code = averaged.main_code

)

select * from final
