-- Progress of every KPI series against every target that applies to it: one row per (kpi,
-- measure, level, unit, series, target). A target at level 'all' applies to every level of the
-- KPI (national included) and every unit; a target with a unit_code only to that unit. A series
-- with no target is still a row (status no_target). Two documents (or two wordings) setting
-- different targets for the same year are two rows. The maths and the status rules:
-- docs/kpi_methodology.md; the boundaries are data (kpi_status_classes).
--   goal_sign            +1 when the target is reached from below (>=, or = in a
--                        higher_is_better measure), -1 from above (<=, top_n, top_n_asean, or =
--                        in a lower_is_better measure: a rank)
--   projection           linear: slope x t_target + intercept; constant_growth:
--                        latest x (1 + growth) ^ (t_target - t_latest); t_target = 31 Dec of the target year
--   gap_to_target        goal_sign x (target - latest): > 0 still to go, <= 0 reached
--   required_pace        (target - latest) / years left; observed_pace = the trend slope
with

trends as (

    select * from {{ ref('int_kpi_series_trends') }}

),

targets as (

    select * from {{ ref('stg_kpi__targets') }}

),

sources as (

    select * from {{ ref('stg_kpi__sources') }}

),

catalogue as (

    select * from {{ ref('stg_kpi__catalogue') }}

),

measures as (

    select * from {{ ref('stg_kpi__measures') }}

),

status_classes as (

    select * from {{ ref('stg_kpi__status_classes') }}

),

at_risk_boundary as (

    select min_pace_ratio as at_risk_min_pace_ratio from status_classes where status_code = 'at_risk'

),

with_targets as (

    select
        trends.*,
        coalesce(measures.measure_direction, catalogue.direction) as direction,
        targets.target_id,
        targets.target_level,
        targets.target_unit_code,
        targets.target_year,
        targets.comparator,
        targets.target_value,
        targets.source_document,
        targets.source_date,
        targets.source_key,
        sources.url as source_url,
        {{ kpi_year_end('targets.target_year') }} as target_date
    from trends
    inner join catalogue
        on catalogue.kpi_code = trends.kpi_code
    left join measures
        on measures.kpi_code = trends.kpi_code
        and measures.measure = trends.measure
    left join targets
        on targets.kpi_code = trends.kpi_code
        and targets.measure = trends.measure
        and (targets.target_level = 'all' or targets.target_level = trends.level)
        and (targets.target_unit_code is null or targets.target_unit_code = trends.unit_code)
    left join sources
        on sources.source_key = {{ dbt.split_part('targets.source_key', "';'", 1) }}

),

signed as (

    select
        with_targets.*,
        case
            when comparator = '>=' then 1
            when comparator in ('<=', 'top_n', 'top_n_asean') then -1
            when direction = 'lower_is_better' then -1
            else 1
        end as goal_sign,
        {{ kpi_years_since_origin('target_date', 'days_per_year') }} - latest_t as years_left
    from with_targets

),

projected as (

    select
        signed.*,
        case
            when values_used < min_points_for_trend or target_id is null or target_date < as_of_date then null
            when trend_method = 'linear' then trend_slope * (latest_t + years_left) + trend_intercept
            when trend_method = 'constant_growth' then latest_value * power(1 + trend_growth, years_left)
        end as projection,
        goal_sign * (target_value - latest_value) as gap_to_target,
        case when years_left > 0 then (target_value - latest_value) / years_left end as required_pace_per_year,
        trend_slope as observed_pace_per_year
    from signed

),

classified as (

    select
        projected.*,
        case
            when goal_sign * required_pace_per_year > 0
                then (goal_sign * observed_pace_per_year) / (goal_sign * required_pace_per_year)
        end as pace_ratio,
        case
            when target_id is null then 'no_target'
            when goal_sign * (latest_value - target_value) >= 0 then 'achieved'
            when values_used < min_points_for_trend then 'insufficient_data'
            when target_date < as_of_date then 'off_track'
            when goal_sign * (projection - target_value) >= 0 then 'on_track'
            when goal_sign * required_pace_per_year > 0
                and (goal_sign * observed_pace_per_year)
                >= (select at_risk_boundary.at_risk_min_pace_ratio from at_risk_boundary)
                * (goal_sign * required_pace_per_year)
                then 'at_risk'
            else 'off_track'
        end as status_code
    from projected

),

final as (

    select
        classified.kpi_code,
        classified.measure,
        classified.level,
        classified.unit_code,
        classified.is_aggregate,
        classified.series,
        catalogue.name_vi,
        catalogue.name_en,
        classified.direction,
        classified.target_id,
        classified.target_level,
        classified.target_year,
        classified.comparator,
        classified.target_value,
        classified.source_document,
        classified.source_date,
        classified.source_key,
        classified.source_url,
        classified.as_of_date,
        classified.latest_value,
        classified.latest_period,
        classified.latest_date,
        classified.previous_value,
        classified.change,
        classified.year_on_year_change,
        classified.cagr,
        classified.trend_method,
        classified.trend_points_used,
        classified.projection,
        classified.gap_to_target,
        classified.required_pace_per_year,
        classified.observed_pace_per_year,
        classified.pace_ratio,
        classified.status_code,
        status_classes.display_order as status_order,
        status_classes.status_name_vi,
        status_classes.status_name_en,
        status_classes.ministry_class_vi as ministry_class,
        status_classes.off_track_severity,
        coalesce(classified.is_stale, false) as is_stale,
        case
            when classified.values_used = 0 then 'no value usable: every value is withheld'
            when classified.values_used < classified.min_points_for_trend
                then {{ dbt.concat([
                    "'insufficient data: '", dbt.cast('classified.values_used', dbt.type_string()),
                    "' value(s), a trend needs '", dbt.cast(dbt.cast('classified.min_points_for_trend', dbt.type_int()), dbt.type_string())
                ]) }}
            when classified.target_id is null then 'no target'
            when classified.target_date < classified.as_of_date then 'the target year has ended: no projection'
            when classified.projection is null then 'no projection: constant growth needs positive values'
            else {{ dbt.concat([
                "classified.trend_method", "' on the last '", dbt.cast('classified.trend_points_used', dbt.type_string()),
                "' value(s)'"
            ]) }}
        end
        || case when classified.is_stale then ' (stale: older than its frequency allows)' else '' end
        as projection_note,
        classified.values_used,
        classified.values_withheld,
        coalesce(classified.latest_publication_basis, 'withheld') as publication_basis,
        classified.methodology_version
    from classified
    inner join catalogue
        on catalogue.kpi_code = classified.kpi_code
    left join status_classes
        on status_classes.status_code = classified.status_code

)

select * from final
