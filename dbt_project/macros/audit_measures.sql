{#- What each service-index measure counts, as row predicates over int_dossiers_timed,
    int_procedures_assessed (with the per-procedure dossier counts) and int_complaints_timed: the
    predicates of int_service_measures_aggregated (macros/service_measures.sql), kept in one place
    for the auditors' row-level lineage (int_audit_measure_input_rows) and its per-source counts
    (int_audit_measure_source_counts). exact = false for derived measures, whose value is computed
    from other measures (their rows are the population the value is derived from). -#}
{% macro audit_measure_definitions() %}
{%- set dossier_measures = {
    'dossiers_received': 'is_received_in_period',
    'dossiers_received_synced': 'is_received_in_period and is_synced_to_portal',
    'dossiers_handled': 'is_handled_in_period',
    'dossiers_handled_on_time': 'is_handled_in_period and is_on_time',
    'dossiers_handled_overdue': 'is_handled_in_period and not is_on_time',
    'dossiers_handled_complained_or_disliked': 'is_handled_in_period and is_complained_or_disliked',
    'dossiers_finished': 'is_finished_in_period',
    'dossiers_received_full_online_eligible': 'is_received_in_period and is_full_online_eligible',
    'dossiers_full_online': 'is_received_in_period and is_full_online',
    'dossiers_received_online': 'is_received_in_period and is_online_with_required_e_result',
    'fee_dossiers': 'is_received_in_period and is_fee_dossier',
    'fee_dossiers_paid_online': 'is_received_in_period and is_fee_dossier and is_paid_online',
    'paper_result_dossiers_finished': 'is_finished_in_period and requires_paper_result',
    'paper_result_dossiers_with_e_result': 'is_finished_in_period and requires_paper_result and has_e_result',
    'dossiers_received_digitised': 'is_received_in_period and is_digitised',
    'certification_dossiers': 'is_received_in_period and is_certification_procedure',
    'certification_dossiers_e_copy': 'is_received_in_period and is_certification_procedure and is_electronic_certified_copy',
    'dossiers_received_reusing_data': 'is_received_in_period and has_reused_digitised_data',
    'dossiers_received_personal_store': 'is_received_in_period and has_personal_store_component',
    'dossiers_received_using_population_db': 'is_received_in_period and uses_population_db',
} %}
{#- finished_processing_days is a sum of days over its rows, so its row count is not its value -#}
{%- set derived_dossier_measures = {
    'finished_processing_days': 'is_finished_in_period',
    'dossiers_received_online_sync_adjusted': 'is_received_in_period and is_online_with_required_e_result',
    'dossiers_handled_satisfied': 'is_handled_in_period and is_on_time and not is_complained_or_disliked',
} %}
{%- set procedure_measures = {
    'procedures_in_catalogue': 'true',
    'procedures_announced': 'is_announced_in_period',
    'procedures_announced_on_time': 'is_announced_in_period and is_announced_on_time',
    'procedures_due_for_publication': '(is_published_in_period or is_publication_overdue_in_period)',
    'procedures_published_on_time': 'is_published_on_time',
    'procedures_published': 'is_published',
    'procedures_published_complete': 'is_published and has_all_mandatory_parts',
    'procedures_online': 'is_online_service',
    'procedures_online_with_online_dossiers': 'is_online_service and coalesce(online_dossier_count, 0) > 0',
    'fee_procedures': 'has_fee',
    'fee_procedures_with_fee_data': 'has_fee and coalesce(fee_data_dossier_count, 0) > 0',
    'fee_procedures_with_dossiers': 'has_fee and coalesce(fee_dossier_count, 0) > 0',
    'fee_procedures_paid_online': 'has_fee and coalesce(paid_online_dossier_count, 0) > 0',
    'citizen_procedures': 'serves_citizens',
    'citizen_procedures_using_population_db': 'serves_citizens and coalesce(population_db_dossier_count, 0) > 0',
} %}
{%- set complaint_measures = {
    'complaints_handled': 'is_handled_in_period',
    'complaints_handled_on_time': 'is_handled_in_period and is_on_time',
    'complaints_about_regulation': 'is_handled_in_period and is_about_regulation',
    'complaints_received': 'is_received_in_period',
    'complaints_received_overdue': 'is_received_in_period and not is_on_time',
    'complaints_received_disliked': 'is_received_in_period and is_disliked',
    'complaints_received_re_raised': 'is_received_in_period and is_re_raised',
} %}
{%- set derived_complaint_measures = {
    'complaints_received_satisfied': 'is_received_in_period and is_on_time and not is_disliked and not is_re_raised',
} %}
{{ return([
    ('dossier', 'dossiers', 'dossier_id', dossier_measures, true),
    ('dossier', 'dossiers', 'dossier_id', derived_dossier_measures, false),
    ('procedure', 'procedures_with_dossiers', 'procedure_code', procedure_measures, true),
    ('complaint', 'complaints', 'complaint_id', complaint_measures, true),
    ('complaint', 'complaints', 'complaint_id', derived_complaint_measures, false),
]) }}
{% endmacro %}


{#- The CTEs both audit models read: dossiers, procedures (with the dossier counts per procedure
    that "at least one dossier" measures need) and complaints, within the period window. -#}
{% macro audit_measure_relations(windowed=true) %}
dossiers as (

    select * from {{ ref('int_dossiers_timed') }}
    {% if windowed %}where {{ in_period_window('period_month') }}{% endif %}

),

procedures as (

    select * from {{ ref('int_procedures_assessed') }}
    {% if windowed %}where {{ in_period_window('period_month') }}{% endif %}

),

complaints as (

    select * from {{ ref('int_complaints_timed') }}
    {% if windowed %}where {{ in_period_window('period_month') }}{% endif %}

),

dossiers_by_procedure as (

    -- as in int_service_measures_aggregated: "at least one dossier" per procedure
    {{ dossier_counts_by_procedure('dossiers') }}

),

procedures_with_dossiers as (

    select procedures.*, d.online_dossier_count, d.fee_data_dossier_count, d.fee_dossier_count,
        d.paid_online_dossier_count, d.population_db_dossier_count
    from procedures
    left join dossiers_by_procedure as d
        on d.period_month = procedures.period_month
        and d.unit_code = procedures.unit_code
        and d.procedure_code = procedures.procedure_code

)
{% endmacro %}
