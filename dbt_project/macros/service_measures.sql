{#- The measures the service-index indicators are built from, written once: code, the entity
    whose rows it counts (dossier: int_dossiers_timed; procedure: int_procedures_assessed with
    the per-procedure dossier counts; complaint: int_complaints_timed), the row predicate, and
    what it counts. Everything that counts a measure reads it from here:
      int_service_measures_aggregated  sum(case when <predicate> then 1 else 0 end) per unit and
                                       month (count(*) for predicate 'true'; `summed` measures
                                       add that column instead of 1)
      int_audit_measure_input_rows,    the rows each predicate selects, and their count per
      rpt_score_lineage                source file (macros/audit_measures.sql)
      tests/assert_indicator_measures_are_computed.sql  the seed names only these measures
    All are additive over a unit and month, except the `derived` ones, computed from the other
    measures after aggregation (so the back-cast basis sums numerators and denominators, never
    ratios or scores); their predicate is the population they are derived from (for the
    lineage). `summed` and `derived` measures are not row counts: their lineage is not exact. -#}
{% macro service_measure_definitions() %}
{{ return([
    {'code': 'dossiers_received', 'entity': 'dossier',
        'predicate': 'is_received_in_period',
        'description': 'dossiers received in the month (NgayTiepNhan in the period)'},
    {'code': 'dossiers_received_synced', 'entity': 'dossier',
        'predicate': 'is_received_in_period and is_synced_to_portal',
        'description': 'dossiers received in the month and synchronised to the national portal (1.4)'},
    {'code': 'dossiers_handled', 'entity': 'dossier',
        'predicate': 'is_handled_in_period',
        'description': 'dossiers received in the month, or received earlier and not closed before it (2.1, 5.4 population)'},
    {'code': 'dossiers_handled_on_time', 'entity': 'dossier',
        'predicate': 'is_handled_in_period and is_on_time',
        'description': 'handled dossiers finished or still open on or before their deadline (2.1)'},
    {'code': 'dossiers_handled_overdue', 'entity': 'dossier',
        'predicate': 'is_handled_in_period and not is_on_time',
        'description': 'handled dossiers not on time (5.4)'},
    {'code': 'dossiers_handled_complained_or_disliked', 'entity': 'dossier',
        'predicate': 'is_handled_in_period and is_complained_or_disliked',
        'description': 'handled dossiers with a complaint or a dislike rating (5.4)'},
    {'code': 'dossiers_finished', 'entity': 'dossier',
        'predicate': 'is_finished_in_period',
        'description': 'dossiers processed or whose result was returned in the month (2.2)'},
    {'code': 'finished_processing_days', 'entity': 'dossier',
        'predicate': 'is_finished_in_period', 'summed': 'processing_days',
        'description': 'sum of processing days (minus supplement time) of dossiers finished in the month (2.2)'},
    {'code': 'dossiers_received_full_online_eligible', 'entity': 'dossier',
        'predicate': 'is_received_in_period and is_full_online_eligible',
        'description': 'dossiers received in the month of procedures eligible for full-process online (3.0)'},
    {'code': 'dossiers_full_online', 'entity': 'dossier',
        'predicate': 'is_received_in_period and is_full_online',
        'description': 'of those, dossiers submitted online (3.0)'},
    {'code': 'dossiers_received_online', 'entity': 'dossier',
        'predicate': 'is_received_in_period and is_online_with_required_e_result',
        'description': 'dossiers received online, with an e-result when a paper result is required (3.3)'},
    {'code': 'fee_dossiers', 'entity': 'dossier',
        'predicate': 'is_received_in_period and is_fee_dossier',
        'description': 'dossiers received of fee-bearing procedures, minus those whose fee list is all zero (3.6)'},
    {'code': 'fee_dossiers_paid_online', 'entity': 'dossier',
        'predicate': 'is_received_in_period and is_fee_dossier and is_paid_online',
        'description': 'of those, dossiers paid online through the portal or a local gateway (3.6)'},
    {'code': 'paper_result_dossiers_finished', 'entity': 'dossier',
        'predicate': 'is_finished_in_period and requires_paper_result',
        'description': 'dossiers finished in the month whose procedure requires a paper result (4.1)'},
    {'code': 'paper_result_dossiers_with_e_result', 'entity': 'dossier',
        'predicate': 'is_finished_in_period and requires_paper_result and has_e_result',
        'description': 'of those, dossiers with an electronic result code and file (4.1)'},
    {'code': 'dossiers_received_digitised', 'entity': 'dossier',
        'predicate': 'is_received_in_period and is_digitised',
        'description': 'dossiers received with a digitised component (and an e-result where required) (4.2)'},
    {'code': 'certification_dossiers', 'entity': 'dossier',
        'predicate': 'is_received_in_period and is_certification_procedure',
        'description': 'dossiers received of certified-copy procedures (4.x)'},
    {'code': 'certification_dossiers_e_copy', 'entity': 'dossier',
        'predicate': 'is_received_in_period and is_certification_procedure and is_electronic_certified_copy',
        'description': 'of those, dossiers that issued an electronic certified copy (4.x)'},
    {'code': 'dossiers_received_reusing_data', 'entity': 'dossier',
        'predicate': 'is_received_in_period and has_reused_digitised_data',
        'description': 'dossiers received re-using digitised data (4.3)'},
    {'code': 'dossiers_received_personal_store', 'entity': 'dossier',
        'predicate': 'is_received_in_period and has_personal_store_component',
        'description': 'dossiers received linked to the citizen personal data store (4.4)'},
    {'code': 'dossiers_received_using_population_db', 'entity': 'dossier',
        'predicate': 'is_received_in_period and uses_population_db',
        'description': 'dossiers received using population-database data or VNeID (4.5b)'},
    {'code': 'procedures_in_catalogue', 'entity': 'procedure',
        'predicate': 'true',
        'description': 'procedures in the month-end catalogue snapshot (3.1)'},
    {'code': 'procedures_announced', 'entity': 'procedure',
        'predicate': 'is_announced_in_period',
        'description': 'procedures announced (QĐ công bố) in the month (1.1)'},
    {'code': 'procedures_announced_on_time', 'entity': 'procedure',
        'predicate': 'is_announced_in_period and is_announced_on_time',
        'description': 'of those, announced >= 20 (ministry) / 5 (province) working days before the legal basis takes effect (1.1)'},
    {'code': 'procedures_due_for_publication', 'entity': 'procedure',
        'predicate': '(is_published_in_period or is_publication_overdue_in_period)',
        'description': 'procedures published in the month, or unpublished at its end with the deadline inside it (1.2)'},
    {'code': 'procedures_published_on_time', 'entity': 'procedure',
        'predicate': 'is_published_on_time',
        'description': 'procedures published in the month within 10 (ministry) / 5 (province) working days of announcement (1.2)'},
    {'code': 'procedures_published', 'entity': 'procedure',
        'predicate': 'is_published',
        'description': 'procedures published on the national procedure database by the month end (1.3)'},
    {'code': 'procedures_published_complete', 'entity': 'procedure',
        'predicate': 'is_published and has_all_mandatory_parts',
        'description': 'of those, with all 7 mandatory parts (1.3)'},
    {'code': 'procedures_online', 'entity': 'procedure',
        'predicate': 'is_online_service',
        'description': 'procedures offered online, partially or fully (3.1, 3.2)'},
    {'code': 'procedures_online_with_online_dossiers', 'entity': 'procedure',
        'predicate': 'is_online_service and coalesce(online_dossier_count, 0) > 0',
        'description': 'online procedures that received an online dossier in the month (3.2)'},
    {'code': 'fee_procedures', 'entity': 'procedure',
        'predicate': 'has_fee',
        'description': 'fee-bearing procedures in the catalogue (3.5a)'},
    {'code': 'fee_procedures_with_fee_data', 'entity': 'procedure',
        'predicate': 'has_fee and coalesce(fee_data_dossier_count, 0) > 0',
        'description': 'fee-bearing procedures with a dossier carrying synced non-zero fee data in the month (3.5a)'},
    {'code': 'fee_procedures_with_dossiers', 'entity': 'procedure',
        'predicate': 'has_fee and coalesce(fee_dossier_count, 0) > 0',
        'description': 'fee-bearing procedures with a fee dossier in the month (3.5b)'},
    {'code': 'fee_procedures_paid_online', 'entity': 'procedure',
        'predicate': 'has_fee and coalesce(paid_online_dossier_count, 0) > 0',
        'description': 'of those, procedures with a dossier paid online in the month (3.5b)'},
    {'code': 'citizen_procedures', 'entity': 'procedure',
        'predicate': 'serves_citizens',
        'description': 'procedures whose applicants include citizens (4.5a)'},
    {'code': 'citizen_procedures_using_population_db', 'entity': 'procedure',
        'predicate': 'serves_citizens and coalesce(population_db_dossier_count, 0) > 0',
        'description': 'of those, procedures with a dossier using population data in the month (4.5a)'},
    {'code': 'complaints_handled', 'entity': 'complaint',
        'predicate': 'is_handled_in_period',
        'description': 'complaints received by the month end and not closed before it (5.1, 5.2)'},
    {'code': 'complaints_handled_on_time', 'entity': 'complaint',
        'predicate': 'is_handled_in_period and is_on_time',
        'description': 'of those, every step within its working-day deadline as of the month end (5.2)'},
    {'code': 'complaints_about_regulation', 'entity': 'complaint',
        'predicate': 'is_handled_in_period and is_about_regulation',
        'description': 'of those, about regulations/procedures rather than staff conduct (5.1)'},
    {'code': 'complaints_received', 'entity': 'complaint',
        'predicate': 'is_received_in_period',
        'description': 'complaints first received in the month (5.3)'},
    {'code': 'complaints_received_overdue', 'entity': 'complaint',
        'predicate': 'is_received_in_period and not is_on_time',
        'description': 'of those, not on time (5.3)'},
    {'code': 'complaints_received_disliked', 'entity': 'complaint',
        'predicate': 'is_received_in_period and is_disliked',
        'description': 'of those, with more dislikes than likes (5.3)'},
    {'code': 'complaints_received_re_raised', 'entity': 'complaint',
        'predicate': 'is_received_in_period and is_re_raised',
        'description': 'of those, raised again after an answer (5.3)'},
    {'code': 'dossiers_received_online_sync_adjusted', 'entity': 'dossier',
        'predicate': 'is_received_in_period and is_online_with_required_e_result',
        'derived': 'case when dossiers_received > 0 then dossiers_received_online * dossiers_received_synced / cast(dossiers_received as ' ~ dxmon.type_double() ~ ') else 0 end',
        'description': 'derived: dossiers_received_online x dossiers_received_synced / dossiers_received (3.3 is multiplied by the sync ratio)'},
    {'code': 'complaints_received_satisfied', 'entity': 'complaint',
        'predicate': 'is_received_in_period and is_on_time and not is_disliked and not is_re_raised',
        'derived': 'greatest(0, complaints_received - complaints_received_disliked - complaints_received_overdue - complaints_received_re_raised)',
        'description': 'derived: max(0, complaints_received - disliked - overdue - re-raised) (5.3)'},
    {'code': 'dossiers_handled_satisfied', 'entity': 'dossier',
        'predicate': 'is_handled_in_period and is_on_time and not is_complained_or_disliked',
        'derived': 'greatest(0, dossiers_handled - dossiers_handled_overdue - dossiers_handled_complained_or_disliked)',
        'description': 'derived: max(0, dossiers_handled - overdue - complained or disliked) (5.4)'}
]) }}
{% endmacro %}

{#- (code, description) of every measure, in the column order of int_service_measures_aggregated. -#}
{% macro service_measures() %}
    {%- set measures = [] -%}
    {%- for measure in service_measure_definitions() -%}
        {%- do measures.append((measure.code, measure.description)) -%}
    {%- endfor -%}
    {{ return(measures) }}
{% endmacro %}

{% macro service_measure_codes() %}
    {{ return(service_measure_definitions() | map(attribute='code') | list) }}
{% endmacro %}

{#- The relation (a CTE of service_measure_relations) and row key of each entity. -#}
{% macro service_measure_entities() %}
    {{ return({
        'dossier': {'relation': 'dossiers', 'key': 'dossier_id'},
        'procedure': {'relation': 'procedures_with_dossiers', 'key': 'procedure_code'},
        'complaint': {'relation': 'complaints', 'key': 'complaint_id'},
    }) }}
{% endmacro %}

{#- The aggregate of one measure over the rows of its entity (not for derived measures). Exact:
    a count, or for a `summed` measure an exact DECIMAL total (macros/types.sql), which
    service_measure_rollup sums again and service_measure_value makes a double at the end. -#}
{% macro service_measure_aggregate(measure) -%}
    {%- if measure.summed -%}
        {{ dxmon.exact_total('case when ' ~ measure.predicate ~ ' then ' ~ measure.summed ~ ' else 0 end') }}
    {%- elif measure.predicate == 'true' -%}
        count(*)
    {%- else -%}
        sum(case when {{ measure.predicate }} then 1 else 0 end)
    {%- endif -%}
{%- endmacro %}

{#- The sum of subtotals of one measure (the back-cast basis): exact, as the subtotals are. -#}
{% macro service_measure_rollup(measure, column) -%}
    {%- if measure.summed -%}
        {{ dxmon.exact_total(column) }}
    {%- else -%}
        sum({{ column }})
    {%- endif -%}
{%- endmacro %}

{#- A measure's value as the measures table carries it: an exact total becomes a double. -#}
{% macro service_measure_value(measure, column) -%}
    {%- if measure.summed -%}
        cast({{ column }} as {{ dxmon.type_double() }})
    {%- else -%}
        {{ column }}
    {%- endif -%}
{%- endmacro %}


{#- The CTEs the measures are counted over: dossiers, procedures (with the dossier counts per
    procedure that "at least one dossier" measures need) and complaints, within the period
    window or not (the row-level lineage view reads every month). -#}
{% macro service_measure_relations(windowed=true) %}
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

    -- dossiers received in the month per procedure, for the procedure-level ratios that need
    -- "at least one dossier" (3.2, 3.5a, 3.5b, 4.5a)
    {{ dossier_counts_by_procedure('dossiers') }}

),

procedures_with_dossiers as (

    select
        procedures.*,
        d.online_dossier_count,
        d.fee_data_dossier_count,
        d.fee_dossier_count,
        d.paid_online_dossier_count,
        d.population_db_dossier_count
    from procedures
    left join dossiers_by_procedure as d
        on d.period_month = procedures.period_month
        and d.unit_code = procedures.unit_code
        and d.procedure_code = procedures.procedure_code

)
{% endmacro %}


{#- Dossiers received in the month per procedure, for the procedure-level ratios that need "at
    least one dossier" (3.2, 3.5a, 3.5b, 4.5a). -#}
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


{#- The wide measure columns of `relation` as the LONG measures table the scoring reads (one row
    per key and measure: measure_code, measure_value as a double), for every measure of
    `measures` (default: all): the unit-month, period and agency measures tables. -#}
{% macro service_measures_unpivoted(relation, keys, measures=none) -%}
    {%- set measures = service_measure_definitions() if measures is none else measures -%}
    {%- for measure in measures %}
    select
        {%- for key in keys %}
        {{ key }},
        {%- endfor %}
        '{{ measure.code }}' as measure_code,
        cast({{ measure.code }} as {{ type_double() }}) as measure_value
    from {{ relation }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
