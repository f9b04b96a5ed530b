{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='period_month',
        on_schema_change='sync_all_columns',
        pre_hook=before_begin("{{ delete_period_window() }}")
    )
}}
-- Config as fct_service_index_monthly's (the wide columns follow the indicator seed; the window
-- delete runs before the model's transaction, as DuckDB refuses an ALTER TABLE and a DELETE on
-- one table in one transaction).
-- depends_on: {{ ref('stg_methodology__service_index_indicators') }}
-- The 766 service index below the province and the ministry: one row per month and handling
-- agency with dossiers in the month (int_service_agencies_by_month), with every sub-indicator's
-- numerator, denominator, ratio and points as wide columns (the indicators not defined at the
-- agency's grain, procedure- and complaint-based, have null values), the groups, the total
-- over the applicable indicators (applicable_max_points says what the agency could reach).
--   is_ranked          ranked within its parent unit and rank group (rpt_agency_ranking_monthly)
--   not_ranked_reason  null when ranked; else the registry's reason (e.g.
--                      level_not_valid_in_month: a district after 2025-06-30) or
--                      no_dossier_handled (not scored)
with

scored as (

    select * from {{ ref('int_service_index_agency_scored') }}
    where {{ in_period_window('period_month') }}

),

agencies as (

    select * from {{ ref('int_service_agencies_by_month') }}
    where {{ in_period_window('period_month') }}

),

handled as (

    select * from {{ ref('int_service_measures_agency_monthly') }}
    where {{ in_period_window('period_month') }}
        and measure_code = 'dossiers_handled'

),

{{ service_index_pivoted('scored', ['period_month', 'agency_code']) }},

final as (

    select
        agencies.period_month,
        agencies.agency_code,
        agencies.agency_name,
        agencies.agency_level,
        agencies.level_name_vi as agency_level_name,
        agencies.rank_group,
        agencies.parent_unit_code,
        agencies.parent_unit_name,
        agencies.parent_unit_level,
        agencies.parent_unit_valid_from,
        cast(coalesce(handled.measure_value, 0) as {{ dbt.type_int() }}) as dossier_count,
        (agencies.level_not_ranked_reason is null and pivoted.total_score_unrounded is not null) as is_ranked,
        case
            when agencies.level_not_ranked_reason is not null then agencies.level_not_ranked_reason
            when pivoted.total_score_unrounded is null then 'no_dossier_handled'
        end as not_ranked_reason,
        pivoted.methodology_version,
        {{- service_index_wide_columns('pivoted') }}
    from agencies
    left join service_index_pivoted as pivoted
        on pivoted.period_month = agencies.period_month
        and pivoted.agency_code = agencies.agency_code
    left join handled
        on handled.period_month = agencies.period_month
        and handled.agency_code = agencies.agency_code

)

select * from final
