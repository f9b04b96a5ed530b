{#- The auditors' row-level lineage (int_audit_measure_input_rows) and its per-source counts
    (rpt_score_lineage) count the predicates of macros/service_measures.sql, the same ones
    int_service_measures_aggregated sums: grouped here per entity and exactness, as
    (entity, relation, key, {measure: predicate}, is_exact). is_exact = false for the summed and
    derived measures, whose value is not their row count (their rows are the population the
    value is computed from). -#}
{% macro audit_measure_definitions() %}
    {%- set entities = service_measure_entities() -%}
    {%- set groups = [] -%}
    {%- for entity in ['dossier', 'procedure', 'complaint'] -%}
        {%- for exact in [true, false] -%}
            {%- set measures = {} -%}
            {%- for measure in service_measure_definitions() -%}
                {%- set is_exact = not (measure.summed or measure.derived) -%}
                {%- if measure.entity == entity and is_exact == exact -%}
                    {%- do measures.update({measure.code: measure.predicate}) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if measures -%}
                {%- do groups.append((entity, entities[entity].relation, entities[entity].key, measures, exact)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(groups) }}
{% endmacro %}
