{{
    config(
        pre_hook="{{ dti_refuse_unset_points(ref('int_dti_reports_selected'), ref('int_dti_main_weights'), 'scoring DTI reports', ref('int_dti_indicator_structure_checked')) }}"
    )
}}
-- depends_on: {{ ref('int_dti_indicator_structure_checked') }}
-- One row per scoring context and ranked unit: the DTI total.
--   total_points = sum of main-indicator value x its points (1000 points in all)
--   dti_value    = total_points / total points of the version, unrounded (docs/methodology_dti.md: from DTI
--                  2021 on; 1726_2020 pillars weighted 400/300/300 = 0.4/0.3/0.3, same formula)
--   completeness = sub-indicators with a value / sub-indicators of the catalogue
-- The pre-hook refuses to score when a (version, level) with a report in scope has a main
-- indicator without points after supplements, or lacks indicators its legal decision states
-- (the national level): the error names version, level and indicator codes or the pillars.
with

main_values as (

    select * from {{ ref('int_dti_main_indicator_values') }}

),

weights as (

    select * from {{ ref('int_dti_main_weights') }}

),

versions as (

    select * from {{ ref('stg_methodology__dti_versions') }}

),

sub_scores as (

    select * from {{ ref('int_dti_sub_indicator_scores') }}

),

reports as (

    select * from {{ ref('int_dti_reports_selected') }}

),

missing_subs as (

    select
        context_key,
        level,
        unit_code,
        {{ dbt.listagg(
            "case when reporting_unit_key = unit_key then indicator_code else " ~ dbt.concat(["reporting_unit_code", "':'", "indicator_code"]) ~ " end",
            "', '",
            "order by reporting_unit_code, display_order") }} as missing_sub_indicator_codes
    from sub_scores
    where is_missing
    group by 1, 2, 3

),

submissions as (

    select
        context_key,
        level,
        unit_code,
        {{ dbt.listagg("submission_id", "', '", "order by submission_id") }} as submission_ids
    from reports
    group by 1, 2, 3

),

weighted as (

    select
        main_values.*,
        weights.max_points as main_points,
        weights.weights_basis
    from main_values
    inner join weights
        on weights.methodology_version = main_values.methodology_version
        and weights.level = main_values.level
        and weights.indicator_code = main_values.indicator_code

),

totals as (

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
        {{ exact_sum('coalesce(value, 0) * main_points') }} as total_points,
        -- 'official' unless a supplement supplied some main-indicator points
        coalesce(max(case when weights_basis <> 'official' then weights_basis end), 'official') as weights_basis,
        max(reporting_unit_count) as reporting_unit_count,
        max(case when is_merged_average then 1 else 0 end) = 1 as is_merged_average,
        sum(sub_indicators_expected) as sub_indicators_expected,
        sum(missing_sub_indicators) as missing_sub_indicators
    from weighted
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11

),

final as (

    select
        totals.context_key,
        totals.year,
        totals.period_month,
        totals.as_of_date,
        totals.level,
        totals.unit_code,
        totals.unit_key,
        totals.unit_name,
        totals.unit_group,
        totals.methodology_version,
        totals.weights_basis,
        totals.total_points,
        totals.total_points / versions.total_points as dti_value,
        round(totals.total_points / versions.total_points, 4) as dti_value_4dp,
        cast(totals.sub_indicators_expected - totals.missing_sub_indicators as {{ dxmon.type_double() }})
            / nullif(totals.sub_indicators_expected, 0) as completeness,
        totals.sub_indicators_expected,
        totals.missing_sub_indicators,
        missing_subs.missing_sub_indicator_codes,
        totals.reporting_unit_count,
        totals.is_merged_average,
        submissions.submission_ids,
        totals.is_provisional
    from totals
    inner join versions
        on versions.methodology_version = totals.methodology_version
    left join missing_subs
        on missing_subs.context_key = totals.context_key
        and missing_subs.level = totals.level
        and missing_subs.unit_code = totals.unit_code
    left join submissions
        on submissions.context_key = totals.context_key
        and submissions.level = totals.level
        and submissions.unit_code = totals.unit_code

)

select * from final
