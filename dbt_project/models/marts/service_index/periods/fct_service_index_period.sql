{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='period',
        on_schema_change='sync_all_columns',
        pre_hook=before_begin("{{ delete_overlapping_periods() }}")
    )
}}
-- on_schema_change and before_begin: as fct_service_index_monthly (the wide columns follow the
-- indicator seed; DuckDB refuses an ALTER TABLE and a DELETE on one table in one transaction).
-- depends_on: {{ ref('stg_methodology__service_index_indicators') }}
-- One row per period (period_kind quarter | year | year_to_date; period '2025-Q3' | '2025' |
-- '2025-08-YTD'), unit and basis (is_backcast): every sub-indicator's numerator, denominator,
-- ratio and points computed from the period's SUMMED numerators and denominators (each dossier,
-- procedure and complaint counted once, judged on its latest row in the period:
-- int_service_measures_period), never a mean of monthly scores; the six portal groups, the
-- decision's five, the total; and the period's months (int_service_periods):
--   months_expected, months_covered, months_missing, months_withheld, covered_month_count,
--   is_complete, publication_basis, override_ids
-- Rule: a period with any withheld month is withheld (publication_basis 'withheld': its sums
-- would silently lack, or silently include, data that failed its blocking checks); else one with
-- an overridden month is published on 'override' (override_ids); missing months (never
-- validated) leave it published with is_complete false and months_missing stated
-- (macros/service_periods.sql, docs/service_index_periods.md). Publication drops the withheld
-- rows (publication gate 'period', publication/publish.py).
-- Units: as reported = every ranked unit valid at the period's END month (2025-Q2: the 63 old
-- provinces; 2025-Q3 and the year 2025: the 34 new ones), back-cast = today's units; plus any
-- other unit with data. A unit without a dossier handled in the period has null scores.
-- Incremental by period: the periods overlapping the window are rebuilt.
with

periods as (

    select * from {{ ref('int_service_periods') }}
    where {{ overlaps_period_window() }}

),

scored as (

    select * from {{ ref('int_service_index_period_scored') }}
    where {{ overlaps_period_window() }}

),

measures as (

    select * from {{ ref('int_service_measures_period') }}
    where {{ overlaps_period_window() }}
        and measure_code = 'dossiers_handled'

),

{{ service_unit_spine('periods', 'period', 'period_end_month') }},

{{ service_index_pivoted('scored', ['period', 'is_backcast', 'unit_code']) }},

final as (

    select
        periods.period_kind,
        periods.period,
        periods.period_start_month,
        periods.period_end_month,
        unit_spine.unit_code,
        unit_spine.unit_name,
        unit_spine.unit_level,
        unit_spine.is_backcast,
        unit_spine.unit_valid_from,
        unit_spine.is_ranked_in_service_index,
        periods.months_expected,
        periods.months_covered,
        periods.months_missing,
        periods.months_withheld,
        periods.covered_month_count,
        periods.is_complete,
        periods.publication_basis,
        periods.override_ids,
        pivoted.methodology_version,
        cast(coalesce(measures.measure_value, 0) as {{ dbt.type_int() }}) as dossier_count,
        {{- service_index_wide_columns('pivoted') }}
    from unit_spine
    inner join periods
        on periods.period = unit_spine.period
    left join service_index_pivoted as pivoted
        on pivoted.period = unit_spine.period
        and pivoted.is_backcast = unit_spine.is_backcast
        and pivoted.unit_code = unit_spine.unit_code
    left join measures
        on measures.period = unit_spine.period
        and measures.unit_basis
        = case when unit_spine.is_backcast then 'backcast_current_units' else 'as_reported_period' end
        and measures.unit_code = unit_spine.unit_code

)

select * from final
