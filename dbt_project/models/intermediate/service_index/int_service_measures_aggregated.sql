{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='period_month',
        pre_hook="{{ delete_period_window() }}"
    )
}}
-- Every measure the service-index indicators are built from, one column each, per month, unit
-- and unit basis (int_service_measures_unit_monthly turns it into the long table):
--   as_reported_period      the unit valid in the month (63 provinces before 2025-07, 34 after)
--   backcast_current_units  today's unit: the as-reported units' counts summed onto their
--                           latest successor, so a series crossing the 2025 mergers stays
--                           continuous. Numerators and denominators are summed, never ratios
--                           or scores; the derived measures are computed after the sum.
-- The measure list and what each counts: macros/service_measures.sql (columns here must match).
with

dossiers as (

    select * from {{ ref('int_dossiers_timed') }}
    where {{ in_period_window('period_month') }}

),

procedures as (

    select * from {{ ref('int_procedures_assessed') }}
    where {{ in_period_window('period_month') }}

),

complaints as (

    select * from {{ ref('int_complaints_timed') }}
    where {{ in_period_window('period_month') }}

),

unit_attribution as (

    select * from {{ ref('int_unit_codes_attributed') }}

),

dossier_measures as (

    select
        period_month,
        unit_code,
        unit_level,
        -- 766/QĐ-TTg 1.4
        sum(case when is_received_in_period then 1 else 0 end) as dossiers_received,
        sum(case when is_received_in_period and is_synced_to_portal then 1 else 0 end) as dossiers_received_synced,
        -- 766/QĐ-TTg 2.1 and 5.4
        sum(case when is_handled_in_period then 1 else 0 end) as dossiers_handled,
        sum(case when is_handled_in_period and is_on_time then 1 else 0 end) as dossiers_handled_on_time,
        sum(case when is_handled_in_period and not is_on_time then 1 else 0 end) as dossiers_handled_overdue,
        sum(case when is_handled_in_period and is_complained_or_disliked then 1 else 0 end)
            as dossiers_handled_complained_or_disliked,
        -- 766/QĐ-TTg 2.2 (monitoring)
        sum(case when is_finished_in_period then 1 else 0 end) as dossiers_finished,
        {{ exact_sum('case when is_finished_in_period then processing_days else 0 end') }} as finished_processing_days,
        -- 766/QĐ-TTg group 4 (CLGQ): full-process online, 3.3
        sum(case when is_received_in_period and is_full_online_eligible then 1 else 0 end)
            as dossiers_received_full_online_eligible,
        sum(case when is_received_in_period and is_full_online then 1 else 0 end) as dossiers_full_online,
        sum(case when is_received_in_period and is_online_with_required_e_result then 1 else 0 end)
            as dossiers_received_online,
        -- 766/QĐ-TTg group 4 (TTTT): 3.6
        sum(case when is_received_in_period and is_fee_dossier then 1 else 0 end) as fee_dossiers,
        sum(case when is_received_in_period and is_fee_dossier and is_paid_online then 1 else 0 end)
            as fee_dossiers_paid_online,
        -- 766/QĐ-TTg group 3 (MDSH): 4.1 .. 4.5b
        sum(case when is_finished_in_period and requires_paper_result then 1 else 0 end)
            as paper_result_dossiers_finished,
        sum(case when is_finished_in_period and requires_paper_result and has_e_result then 1 else 0 end)
            as paper_result_dossiers_with_e_result,
        sum(case when is_received_in_period and is_digitised then 1 else 0 end) as dossiers_received_digitised,
        sum(case when is_received_in_period and is_certification_procedure then 1 else 0 end)
            as certification_dossiers,
        sum(case when is_received_in_period and is_certification_procedure and is_electronic_certified_copy
            then 1 else 0 end) as certification_dossiers_e_copy,
        sum(case when is_received_in_period and has_reused_digitised_data then 1 else 0 end)
            as dossiers_received_reusing_data,
        sum(case when is_received_in_period and has_personal_store_component then 1 else 0 end)
            as dossiers_received_personal_store,
        sum(case when is_received_in_period and uses_population_db then 1 else 0 end)
            as dossiers_received_using_population_db
    from dossiers
    group by 1, 2, 3

),

dossiers_by_procedure as (

    -- dossiers received in the month per procedure, for the procedure-level ratios that need
    -- "at least one dossier" (3.2, 3.5a, 3.5b, 4.5a)
    {{ dossier_counts_by_procedure('dossiers') }}

),

procedure_measures as (

    select
        procedures.period_month,
        procedures.unit_code,
        procedures.unit_level,
        count(*) as procedures_in_catalogue,
        -- 766/QĐ-TTg 1.1
        sum(case when procedures.is_announced_in_period then 1 else 0 end) as procedures_announced,
        sum(case when procedures.is_announced_in_period and procedures.is_announced_on_time then 1 else 0 end)
            as procedures_announced_on_time,
        -- 766/QĐ-TTg 1.2
        sum(case when procedures.is_published_in_period or procedures.is_publication_overdue_in_period
            then 1 else 0 end) as procedures_due_for_publication,
        sum(case when procedures.is_published_on_time then 1 else 0 end) as procedures_published_on_time,
        -- 766/QĐ-TTg 1.3
        sum(case when procedures.is_published then 1 else 0 end) as procedures_published,
        sum(case when procedures.is_published and procedures.has_all_mandatory_parts then 1 else 0 end)
            as procedures_published_complete,
        -- 766/QĐ-TTg 3.1, 3.2
        sum(case when procedures.is_online_service then 1 else 0 end) as procedures_online,
        sum(case when procedures.is_online_service and dossiers_by_procedure.online_dossier_count > 0
            then 1 else 0 end) as procedures_online_with_online_dossiers,
        -- 766/QĐ-TTg 3.5a, 3.5b
        sum(case when procedures.has_fee then 1 else 0 end) as fee_procedures,
        sum(case when procedures.has_fee and dossiers_by_procedure.fee_data_dossier_count > 0
            then 1 else 0 end) as fee_procedures_with_fee_data,
        sum(case when procedures.has_fee and dossiers_by_procedure.fee_dossier_count > 0
            then 1 else 0 end) as fee_procedures_with_dossiers,
        sum(case when procedures.has_fee and dossiers_by_procedure.paid_online_dossier_count > 0
            then 1 else 0 end) as fee_procedures_paid_online,
        -- 766/QĐ-TTg 4.5a
        sum(case when procedures.serves_citizens then 1 else 0 end) as citizen_procedures,
        sum(case when procedures.serves_citizens and dossiers_by_procedure.population_db_dossier_count > 0
            then 1 else 0 end) as citizen_procedures_using_population_db
    from procedures
    left join dossiers_by_procedure
        on dossiers_by_procedure.period_month = procedures.period_month
        and dossiers_by_procedure.unit_code = procedures.unit_code
        and dossiers_by_procedure.procedure_code = procedures.procedure_code
    group by 1, 2, 3

),

complaint_measures as (

    select
        period_month,
        unit_code,
        unit_level,
        -- 766/QĐ-TTg 5.1, 5.2
        sum(case when is_handled_in_period then 1 else 0 end) as complaints_handled,
        sum(case when is_handled_in_period and is_on_time then 1 else 0 end) as complaints_handled_on_time,
        sum(case when is_handled_in_period and is_about_regulation then 1 else 0 end)
            as complaints_about_regulation,
        -- 766/QĐ-TTg 5.3
        sum(case when is_received_in_period then 1 else 0 end) as complaints_received,
        sum(case when is_received_in_period and not is_on_time then 1 else 0 end) as complaints_received_overdue,
        sum(case when is_received_in_period and is_disliked then 1 else 0 end) as complaints_received_disliked,
        sum(case when is_received_in_period and is_re_raised then 1 else 0 end) as complaints_received_re_raised
    from complaints
    group by 1, 2, 3

),

unit_months as (

    select period_month, unit_code, unit_level from dossier_measures
    union
    select period_month, unit_code, unit_level from procedure_measures
    union
    select period_month, unit_code, unit_level from complaint_measures

),

as_reported as (

    select
        unit_months.period_month,
        unit_months.unit_code,
        unit_months.unit_level,
        {%- for column in ['dossiers_received', 'dossiers_received_synced', 'dossiers_handled',
            'dossiers_handled_on_time', 'dossiers_handled_overdue', 'dossiers_handled_complained_or_disliked',
            'dossiers_finished', 'finished_processing_days', 'dossiers_received_full_online_eligible',
            'dossiers_full_online', 'dossiers_received_online', 'fee_dossiers', 'fee_dossiers_paid_online',
            'paper_result_dossiers_finished', 'paper_result_dossiers_with_e_result',
            'dossiers_received_digitised', 'certification_dossiers', 'certification_dossiers_e_copy',
            'dossiers_received_reusing_data', 'dossiers_received_personal_store',
            'dossiers_received_using_population_db'] %}
        coalesce(dossier_measures.{{ column }}, 0) as {{ column }},
        {%- endfor %}
        {%- for column in ['procedures_in_catalogue', 'procedures_announced', 'procedures_announced_on_time',
            'procedures_due_for_publication', 'procedures_published_on_time', 'procedures_published',
            'procedures_published_complete', 'procedures_online', 'procedures_online_with_online_dossiers',
            'fee_procedures', 'fee_procedures_with_fee_data', 'fee_procedures_with_dossiers',
            'fee_procedures_paid_online', 'citizen_procedures', 'citizen_procedures_using_population_db'] %}
        coalesce(procedure_measures.{{ column }}, 0) as {{ column }},
        {%- endfor %}
        {%- for column in ['complaints_handled', 'complaints_handled_on_time', 'complaints_about_regulation',
            'complaints_received', 'complaints_received_overdue', 'complaints_received_disliked',
            'complaints_received_re_raised'] %}
        coalesce(complaint_measures.{{ column }}, 0) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from unit_months
    left join dossier_measures
        on dossier_measures.period_month = unit_months.period_month
        and dossier_measures.unit_code = unit_months.unit_code
    left join procedure_measures
        on procedure_measures.period_month = unit_months.period_month
        and procedure_measures.unit_code = unit_months.unit_code
    left join complaint_measures
        on complaint_measures.period_month = unit_months.period_month
        and complaint_measures.unit_code = unit_months.unit_code

),

{%- set additive_measures = service_measure_codes() | reject('in', [
    'dossiers_received_online_sync_adjusted', 'complaints_received_satisfied', 'dossiers_handled_satisfied'
]) | list %}

backcast as (

    -- each as-reported unit of the month onto today's unit (its latest successor)
    select
        as_reported.period_month,
        unit_attribution.backcast_unit_code as unit_code,
        as_reported.unit_level,
        {%- for column in additive_measures %}
        sum(as_reported.{{ column }}) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from as_reported
    inner join unit_attribution
        on unit_attribution.reported_unit_code = as_reported.unit_code
        and unit_attribution.period_month = as_reported.period_month
    group by 1, 2, 3

),

both_bases as (

    select 'as_reported_period' as unit_basis, as_reported.* from as_reported
    union all
    select 'backcast_current_units' as unit_basis, backcast.* from backcast

),

derived as (

    select
        both_bases.*,
        -- 766/QĐ-TTg 3.3: the online share is multiplied by the sync ratio
        case
            when dossiers_received > 0
                then dossiers_received_online * dossiers_received_synced / cast(dossiers_received as {{ type_double() }})
            else 0
        end as dossiers_received_online_sync_adjusted,
        -- 766/QĐ-TTg 5.3: all - disliked - overdue - re-raised, clipped at 0
        greatest(
            0,
            complaints_received - complaints_received_disliked - complaints_received_overdue
                - complaints_received_re_raised
        ) as complaints_received_satisfied,
        -- 766/QĐ-TTg 5.4: 100 % - (overdue rate + complaint-or-dislike rate) on one population,
        -- i.e. (handled - overdue - complained or disliked) / handled, clipped at 0
        greatest(
            0,
            dossiers_handled - dossiers_handled_overdue - dossiers_handled_complained_or_disliked
        ) as dossiers_handled_satisfied
    from both_bases

),

final as (

    select * from derived

)

select * from final
