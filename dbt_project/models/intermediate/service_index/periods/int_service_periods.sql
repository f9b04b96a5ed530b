{{ config(materialized='table') }}
-- One row per period of the 766 service index: period_kind quarter | year | year_to_date, every
-- period containing at least one validated month (a year to date: through each validated month),
-- with the status of its months. A table rebuilt whole on every run (a few rows per year).
--   months_expected      months of the span: quarter 3, year 12, year to date the month number
--   months_covered       validated months not withheld ('YYYY-MM,YYYY-MM', '' when none)
--   months_withheld      validated months whose publication basis is 'withheld'
--   months_missing       months of the span never validated (not yet happened, or not delivered)
--   is_complete          every month of the span covered
-- Rule (macros/service_periods.sql service_period_publication_basis; docs/service_index_periods.md):
-- a period with any withheld month is withheld (its sums would silently lack, or silently
-- include, data that failed its blocking checks); else a period with an overridden month is
-- published on 'override' (override_ids lists the overrides); a period with missing months is
-- published with is_complete false and months_missing stated.
-- period_month = period_end_month: the column the folder's window delete keys on.
with

gate as (

    select * from {{ ref('int_service_period_gate_months') }}

),

months as (

    select distinct period_month from {{ ref('int_units_valid_by_month') }}

),

period_spans as (

    select distinct
        'quarter' as period_kind,
        cast({{ dbt.date_trunc('quarter', 'period_month') }} as date) as period_start_month,
        cast({{ dbt.dateadd('month', 2, dbt.date_trunc('quarter', 'period_month')) }} as date) as period_end_month
    from gate

    union

    select distinct
        'year' as period_kind,
        cast({{ dbt.date_trunc('year', 'period_month') }} as date) as period_start_month,
        cast({{ dbt.dateadd('month', 11, dbt.date_trunc('year', 'period_month')) }} as date) as period_end_month
    from gate

    union

    select distinct
        'year_to_date' as period_kind,
        cast({{ dbt.date_trunc('year', 'period_month') }} as date) as period_start_month,
        period_month as period_end_month
    from gate

),

span_months as (

    select
        period_spans.period_kind,
        period_spans.period_start_month,
        period_spans.period_end_month,
        months.period_month,
        {{ kpi_month_key('months.period_month') }} as month_key,
        gate.period_month is not null as is_validated,
        gate.publication_basis,
        gate.override_id
    from period_spans
    inner join months
        on months.period_month >= period_spans.period_start_month
        and months.period_month <= period_spans.period_end_month
    left join gate
        on gate.period_month = months.period_month

),

summarised as (

    select
        period_kind,
        period_start_month,
        period_end_month,
        count(*) as months_expected,
        coalesce({{ dbt.listagg(
            "case when is_validated and publication_basis <> 'withheld' then month_key end",
            "','", 'order by period_month') }}, '') as months_covered,
        coalesce({{ dbt.listagg(
            'case when not is_validated then month_key end', "','", 'order by period_month') }}, '')
            as months_missing,
        coalesce({{ dbt.listagg(
            "case when publication_basis = 'withheld' then month_key end", "','", 'order by period_month') }}, '')
            as months_withheld,
        sum(case when is_validated and publication_basis <> 'withheld' then 1 else 0 end) as covered_month_count,
        sum(case when publication_basis = 'withheld' then 1 else 0 end) as withheld_month_count,
        sum(case when publication_basis = 'override' then 1 else 0 end) as overridden_month_count,
        {{ dbt.listagg("case when publication_basis = 'override' then override_id end", "','",
                       'order by period_month') }} as override_ids
    from span_months
    group by 1, 2, 3

),

final as (

    select
        period_kind,
        {{ service_period_key('period_kind', 'period_end_month') }} as period,
        period_start_month,
        period_end_month,
        period_end_month as period_month,
        cast(months_expected as {{ dbt.type_int() }}) as months_expected,
        months_covered,
        months_missing,
        months_withheld,
        cast(covered_month_count as {{ dbt.type_int() }}) as covered_month_count,
        covered_month_count = months_expected as is_complete,
        {{ service_period_publication_basis('withheld_month_count', 'overridden_month_count') }}
            as publication_basis,
        case when overridden_month_count > 0 then override_ids end as override_ids,
        {{ service_previous_period_end('period_kind', 'period_end_month') }} as previous_period_end_month,
        case
            when {{ service_previous_period_end('period_kind', 'period_end_month') }} is not null
                then {{ service_period_key(
                    'period_kind', service_previous_period_end('period_kind', 'period_end_month')) }}
        end as previous_period
    from summarised

)

select * from final
