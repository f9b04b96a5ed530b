{{
    config(
        unique_key='period',
        pre_hook="{{ delete_overlapping_periods() }}"
    )
}}
-- One row per period (int_service_periods) and ranked unit valid at the period's END month: the
-- procedure measures (macros/service_measures.sql) over the unit's catalogue, each procedure
-- (unit, procedure_code) counted once, judged on its LATEST row in the period: the catalogue
-- state of its last month, with the announced / published / overdue flags re-evaluated against
-- the period's start (macros/service_periods.sql; the month's: int_procedures_assessed) and the
-- "at least one dossier" counts (3.2, 3.5a, 3.5b, 4.5a) summed over the period's months.
-- Rows reported under codes that merged before the period's end are attributed to the unit valid
-- then; when two of them list the same procedure, the latest month wins, then the row of the unit
-- whose code the successor kept (as int_procedures_assessed does within a month).
-- Not the delta trick of int_service_measure_deltas_monthly: a procedure's key is its unit, which
-- depends on the period's end month across a merger; the catalogue is small (units x procedures x
-- months), each row is read by the few periods containing its month.
-- Incremental by period: the periods overlapping the window are deleted (pre-hook) and rebuilt,
-- reading every month of their spans. period_month = period_end_month (the folder's window delete).
{%- set procedure_measures = service_measure_definitions() | rejectattr('derived')
                             | selectattr('entity', 'equalto', 'procedure') | list %}
with

periods as (

    select * from {{ ref('int_service_periods') }}
    where {{ overlaps_period_window() }}

),

procedures as (

    select * from {{ ref('int_procedures_assessed') }}

),

dossiers as (

    select * from {{ ref('int_dossiers_timed') }}

),

unit_attribution as (

    select * from {{ ref('int_unit_codes_attributed') }}

),

monthly_dossiers as (

    -- the macro's unit is the reported code here: it is attributed at the period's end below
    select
        period_month,
        reported_unit_code as unit_code,
        procedure_code,
        is_received_in_period,
        is_online_submission,
        has_fee_data,
        is_fee_dossier,
        is_paid_online,
        uses_population_db
    from dossiers

),

monthly_dossier_counts as (

    -- dossiers received per month, reported code and procedure (each dossier is received in one
    -- month, so the months' counts add up to the period's)
    {{ dossier_counts_by_procedure('monthly_dossiers') -}}

),

period_dossier_counts as (

    select
        periods.period,
        unit_attribution.unit_code,
        monthly_dossier_counts.procedure_code,
        sum(monthly_dossier_counts.online_dossier_count) as online_dossier_count,
        sum(monthly_dossier_counts.fee_data_dossier_count) as fee_data_dossier_count,
        sum(monthly_dossier_counts.fee_dossier_count) as fee_dossier_count,
        sum(monthly_dossier_counts.paid_online_dossier_count) as paid_online_dossier_count,
        sum(monthly_dossier_counts.population_db_dossier_count) as population_db_dossier_count
    from periods
    inner join monthly_dossier_counts
        on monthly_dossier_counts.period_month >= periods.period_start_month
        and monthly_dossier_counts.period_month <= periods.period_end_month
    inner join unit_attribution
        on unit_attribution.reported_unit_code = monthly_dossier_counts.unit_code
        and unit_attribution.period_month = periods.period_end_month
    group by 1, 2, 3

),

period_rows as (

    select
        periods.period_kind,
        periods.period,
        periods.period_start_month,
        periods.period_end_month,
        unit_attribution.unit_code as period_unit_code,
        unit_attribution.unit_level as period_unit_level,
        procedures.*,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'procedures.period_month')) }} as date)
            as row_last_date,
        row_number() over (
            partition by periods.period, unit_attribution.unit_code, procedures.procedure_code
            order by
                procedures.period_month desc,
                case when procedures.reported_unit_code = unit_attribution.unit_code then 0 else 1 end asc,
                procedures.reported_unit_code asc
        ) as latest_rank
    from periods
    inner join procedures
        on procedures.period_month >= periods.period_start_month
        and procedures.period_month <= periods.period_end_month
    inner join unit_attribution
        on unit_attribution.reported_unit_code = procedures.reported_unit_code
        and unit_attribution.period_month = periods.period_end_month

),

latest as (

    -- the measures' predicates read these columns (macros/service_measures.sql)
    select
        period_rows.period_kind,
        period_rows.period,
        period_rows.period_start_month,
        period_rows.period_end_month,
        period_rows.period_unit_code as unit_code,
        period_rows.period_unit_level as unit_level,
        period_rows.procedure_code,
        {{ service_procedure_period_flags('period_rows.period_start_month', 'period_rows.row_last_date') }},
        period_rows.is_announced_on_time,
        period_rows.has_all_mandatory_parts,
        period_rows.is_online_service,
        period_rows.has_fee,
        period_rows.serves_citizens,
        counts.online_dossier_count,
        counts.fee_data_dossier_count,
        counts.fee_dossier_count,
        counts.paid_online_dossier_count,
        counts.population_db_dossier_count
    from period_rows
    left join period_dossier_counts as counts
        on counts.period = period_rows.period
        and counts.unit_code = period_rows.period_unit_code
        and counts.procedure_code = period_rows.procedure_code
    where period_rows.latest_rank = 1

),

final as (

    select
        period_kind,
        period,
        period_start_month,
        period_end_month,
        period_end_month as period_month,
        unit_code,
        unit_level,
        {%- for measure in procedure_measures %}
        {{ service_measure_aggregate(measure) }} as {{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from latest
    group by 1, 2, 3, 4, 5, 6, 7

)

select * from final
