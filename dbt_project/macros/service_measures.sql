{#- The measures of int_service_measures_unit_monthly: code -> what it counts. One place for
    the list: the model unpivots these columns, a singular test checks that every measure the
    indicator seed names is one of them, and the model's docs point here.
    All are additive counts (or sums) over a unit and month, except the three `derived` ones,
    which are computed from the others after aggregation (so the back-cast basis aggregates
    numerators and denominators, never ratios or scores). -#}
{% macro service_measures() %}
{{ return([
    ('dossiers_received', 'dossiers received in the month (NgayTiepNhan in the period)'),
    ('dossiers_received_synced', 'dossiers received in the month and synchronised to the national portal (1.4)'),
    ('dossiers_handled', 'dossiers received in the month, or received earlier and not closed before it (2.1, 5.4 population)'),
    ('dossiers_handled_on_time', 'handled dossiers finished or still open on or before their deadline (2.1)'),
    ('dossiers_handled_overdue', 'handled dossiers not on time (5.4)'),
    ('dossiers_handled_complained_or_disliked', 'handled dossiers with a complaint or a dislike rating (5.4)'),
    ('dossiers_finished', 'dossiers processed or whose result was returned in the month (2.2)'),
    ('finished_processing_days', 'sum of processing days (minus supplement time) of dossiers finished in the month (2.2)'),
    ('dossiers_received_full_online_eligible', 'dossiers received in the month of procedures eligible for full-process online (3.0)'),
    ('dossiers_full_online', 'of those, dossiers submitted online (3.0)'),
    ('dossiers_received_online', 'dossiers received online, with an e-result when a paper result is required (3.3)'),
    ('fee_dossiers', 'dossiers received of fee-bearing procedures, minus those whose fee list is all zero (3.6)'),
    ('fee_dossiers_paid_online', 'of those, dossiers paid online through the portal or a local gateway (3.6)'),
    ('paper_result_dossiers_finished', 'dossiers finished in the month whose procedure requires a paper result (4.1)'),
    ('paper_result_dossiers_with_e_result', 'of those, dossiers with an electronic result code and file (4.1)'),
    ('dossiers_received_digitised', 'dossiers received with a digitised component (and an e-result where required) (4.2)'),
    ('certification_dossiers', 'dossiers received of certified-copy procedures (4.x)'),
    ('certification_dossiers_e_copy', 'of those, dossiers that issued an electronic certified copy (4.x)'),
    ('dossiers_received_reusing_data', 'dossiers received re-using digitised data (4.3)'),
    ('dossiers_received_personal_store', 'dossiers received linked to the citizen personal data store (4.4)'),
    ('dossiers_received_using_population_db', 'dossiers received using population-database data or VNeID (4.5b)'),
    ('procedures_in_catalogue', 'procedures in the month-end catalogue snapshot (3.1)'),
    ('procedures_announced', 'procedures announced (QĐ công bố) in the month (1.1)'),
    ('procedures_announced_on_time', 'of those, announced >= 20 (ministry) / 5 (province) working days before the legal basis takes effect (1.1)'),
    ('procedures_due_for_publication', 'procedures published in the month, or unpublished at its end with the deadline inside it (1.2)'),
    ('procedures_published_on_time', 'procedures published in the month within 10 (ministry) / 5 (province) working days of announcement (1.2)'),
    ('procedures_published', 'procedures published on the national procedure database by the month end (1.3)'),
    ('procedures_published_complete', 'of those, with all 7 mandatory parts (1.3)'),
    ('procedures_online', 'procedures offered online, partially or fully (3.1, 3.2)'),
    ('procedures_online_with_online_dossiers', 'online procedures that received an online dossier in the month (3.2)'),
    ('fee_procedures', 'fee-bearing procedures in the catalogue (3.5a)'),
    ('fee_procedures_with_fee_data', 'fee-bearing procedures with a dossier carrying synced non-zero fee data in the month (3.5a)'),
    ('fee_procedures_with_dossiers', 'fee-bearing procedures with a fee dossier in the month (3.5b)'),
    ('fee_procedures_paid_online', 'of those, procedures with a dossier paid online in the month (3.5b)'),
    ('citizen_procedures', 'procedures whose applicants include citizens (4.5a)'),
    ('citizen_procedures_using_population_db', 'of those, procedures with a dossier using population data in the month (4.5a)'),
    ('complaints_handled', 'complaints received by the month end and not closed before it (5.1, 5.2)'),
    ('complaints_handled_on_time', 'of those, every step within its working-day deadline as of the month end (5.2)'),
    ('complaints_about_regulation', 'of those, about regulations/procedures rather than staff conduct (5.1)'),
    ('complaints_received', 'complaints first received in the month (5.3)'),
    ('complaints_received_overdue', 'of those, not on time (5.3)'),
    ('complaints_received_disliked', 'of those, with more dislikes than likes (5.3)'),
    ('complaints_received_re_raised', 'of those, raised again after an answer (5.3)'),
    ('dossiers_received_online_sync_adjusted', 'derived: dossiers_received_online x dossiers_received_synced / dossiers_received (3.3 is multiplied by the sync ratio)'),
    ('complaints_received_satisfied', 'derived: max(0, complaints_received - disliked - overdue - re-raised) (5.3)'),
    ('dossiers_handled_satisfied', 'derived: max(0, dossiers_handled - overdue - complained or disliked) (5.4)'),
]) }}
{% endmacro %}

{% macro service_measure_codes() %}
    {{ return(service_measures() | map(attribute=0) | list) }}
{% endmacro %}


{#- Dossiers received in the month per procedure, for the procedure-level ratios that need "at
    least one dossier" (3.2, 3.5a, 3.5b, 4.5a): int_service_measures_aggregated and the auditors'
    lineage (macros/audit_measures.sql) count the same. -#}
{% macro dossier_counts_by_procedure(dossiers) %}
    select
        period_month,
        unit_code,
        procedure_code,
        sum(case when is_online_submission then 1 else 0 end) as online_dossier_count,
        sum(case when has_fee_data then 1 else 0 end) as fee_data_dossier_count,
        sum(case when is_fee_dossier then 1 else 0 end) as fee_dossier_count,
        sum(case when is_fee_dossier and is_paid_online then 1 else 0 end) as paid_online_dossier_count,
        sum(case when uses_population_db then 1 else 0 end) as population_db_dossier_count
    from {{ dossiers }}
    where is_received_in_period
    group by 1, 2, 3
{% endmacro %}
