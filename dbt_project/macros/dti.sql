{#- DTI scoring helpers (docs/dti_design.md). -#}

{#- The year whose FINAL scores int_dti_final_scores computes (var dti_final_year), or none. -#}
{% macro dti_final_year() -%}
    {%- set year = var('dti_final_year', none) -%}
    {%- if year is none or (year | string | lower) in ('none', 'null', '') -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(year | int) }}
{%- endmacro %}

{#- The columns of fct_dti_scores, in order, with their types. meta.dti_frozen_scores has the
    same columns (`dxmon dti close-year` copies intermediate.int_dti_final_scores, which selects
    them cast to these types; ensure_dti_meta_tables creates the table). -#}
{% macro dti_score_column_types() %}
    {%- set double = dxmon.type_double() -%}
    {%- set text = dbt.type_string() -%}
    {%- set integer = dbt.type_int() -%}
    {%- set boolean = dbt.type_boolean() -%}
    {{ return([
        ('year', integer), ('period_month', 'date'), ('as_of_date', 'date'), ('level', text),
        ('unit_code', text), ('unit_key', text), ('unit_name', text), ('unit_group', text),
        ('methodology_version', text), ('weights_basis', text), ('total_points', double),
        ('dti_value', double), ('dti_value_4dp', double), ('completeness', double),
        ('sub_indicators_expected', integer), ('missing_sub_indicators', integer),
        ('missing_sub_indicator_codes', text), ('reporting_unit_count', integer),
        ('is_merged_average', boolean), ('submission_ids', text), ('is_provisional', boolean)
    ]) }}
{% endmacro %}

{% macro dti_score_columns() %}
    {{ return(dti_score_column_types() | map(attribute=0) | list) }}
{% endmacro %}

{#- `cast(col as type) as col, ...` over the score columns. -#}
{% macro dti_score_columns_cast(prefix='') -%}
    {%- for name, type in dti_score_column_types() -%}
        cast({{ prefix }}{{ name }} as {{ type }}) as {{ name }}{{ ',' if not loop.last }}
    {% endfor -%}
{%- endmacro %}

{#- meta.dti_frozen_scores (docs/dti_design.md, "Closed years"), created if missing: its columns are
    fct_dti_scores' (dti_score_column_types), so dbt owns it, not ingestion/core/schema.py. Run as the
    pre-hook of stg_dti_meta__frozen_scores, the first model that reads it, so a warehouse where no
    year was ever closed still builds (an empty table = no final rows). meta.dti_year_closures is
    an ordinary table declared with every other in ingestion/core/schema.py (`dxmon prepare`). -#}
{% macro ensure_dti_meta_tables() -%}
    create schema if not exists meta;
    create table if not exists meta.dti_frozen_scores (
        {%- for name, type in dti_score_column_types() %}
        {{ name }} {{ type }}{{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{#- docs/methodology_dti.md: competition ranks (1, 2, 2, 4) on the value rounded to the published 4 decimals. -#}
{% macro dti_competition_rank(value_column, partition_columns) -%}
    rank() over (
        partition by {{ partition_columns | join(', ') }}
        order by round({{ value_column }}, 4) desc
    )
{%- endmacro %}

{#- Refusal (docs/methodology_dti.md: "a run with unset weights must refuse to score, saying which weights are
    missing; never guess"). Run as a pre-hook of the model that multiplies main-indicator values
    by their points: which (methodology_version, level) pairs are scored is only known from the
    data, so the check reads the scope relation (upstream, already built) and raises when
      * any of its main indicators has no points after supplements (weights_relation), or
      * its catalogue lacks nodes the legal decision states (structure_relation: the national
        level, whose indicator list and points are not public).
    The model then errors with this message and dbt skips everything downstream of it; nothing
    partial is written. A (version, level) with no report in scope is never checked: the monthly
    run does not fail for a level nobody reported.
    scope_relation: rows with methodology_version, level being scored.
    weights_relation: int_dti_main_weights.
    structure_relation: int_dti_indicator_structure_checked, or none. -#}
{% macro dti_refuse_unset_points(scope_relation, weights_relation, what, structure_relation=none) %}
    {%- if execute -%}
        {%- set problems = [] -%}
        {%- set query -%}
            select weights.methodology_version, weights.level, weights.indicator_code
            from (select distinct methodology_version, level from {{ scope_relation }}) as scope
            inner join {{ weights_relation }} as weights
                on weights.methodology_version = scope.methodology_version
                and weights.level = scope.level
            where weights.max_points is null
            order by weights.methodology_version, weights.level, weights.display_order, weights.indicator_code
        {%- endset -%}
        {%- set result = run_query(query) -%}
        {%- if result.rows | length > 0 -%}
            {%- set missing = {} -%}
            {%- for row in result.rows -%}
                {%- set key = 'methodology_version ' ~ row[0] ~ ', level ' ~ row[1] -%}
                {%- do missing.setdefault(key, []).append(row[2] | string) -%}
            {%- endfor -%}
            {%- set parts = [] -%}
            {%- for key, codes in missing.items() -%}
                {%- do parts.append(key ~ ': main indicators ' ~ (codes | join(', '))) -%}
            {%- endfor -%}
            {%- do problems.append(
                'main-indicator points are unset for '
                ~ (parts | join('; '))
                ~ '. These weights are not public: load them as data with '
                ~ '`dxmon dti load-weights FILE --source TEXT` (raw.dti_weight_supplements) or set '
                ~ 'max_points in seeds/methodology/dti/dti_indicators.csv from the official annex. '
                ~ 'Never guess them.') -%}
        {%- endif -%}
        {%- if structure_relation is not none -%}
            {%- set structure_query -%}
                select structure.methodology_version, structure.level, structure.parent_code,
                    structure.parent_node_type, structure.parent_name_vi, structure.parent_max_points,
                    structure.child_node_type, structure.expected_children, structure.catalogue_children
                from (select distinct methodology_version, level from {{ scope_relation }}) as scope
                inner join {{ structure_relation }} as structure
                    on structure.methodology_version = scope.methodology_version
                    and structure.level = scope.level
                where structure.missing_children > 0
                order by structure.methodology_version, structure.level,
                    structure.parent_display_order nulls first, structure.parent_code
            {%- endset -%}
            {%- set structure_result = run_query(structure_query) -%}
            {%- if structure_result.rows | length > 0 -%}
                {%- set child_words = {'sub': 'indicators', 'main': 'main indicators', 'pillar': 'pillars'} -%}
                {%- set incomplete = {} -%}
                {%- for row in structure_result.rows -%}
                    {%- set key = 'methodology_version ' ~ row[0] ~ ', level ' ~ row[1] -%}
                    {%- if row[2] is none -%}
                        {%- set place = 'top level' -%}
                    {%- else -%}
                        {%- set points = '' if row[5] is none else ' (' ~ (row[5] | int) ~ ' points)' -%}
                        {%- set place = (row[3] or 'node') ~ ' ' ~ row[2] ~ ' ' ~ (row[4] or '') ~ points -%}
                    {%- endif -%}
                    {%- do incomplete.setdefault(key, []).append(
                        place ~ ': ' ~ (row[8] | int) ~ ' of ' ~ (row[7] | int) ~ ' '
                        ~ child_words.get(row[6], row[6]) ~ ' in the catalogue') -%}
                {%- endfor -%}
                {%- set parts = [] -%}
                {%- for key, places in incomplete.items() -%}
                    {%- do parts.append(key ~ ': ' ~ (places | join(', '))) -%}
                {%- endfor -%}
                {%- do problems.append(
                    'the indicator list is incomplete for '
                    ~ (parts | join('; '))
                    ~ '. These indicators and their points are not public: add each one (rule, '
                    ~ 'max_points) to seeds/methodology/dti/dti_indicators.csv from the official annex '
                    ~ '(seeds/methodology/dti/dti_indicator_structure.csv states how many). Never guess them.') -%}
            {%- endif -%}
        {%- endif -%}
        {%- if problems | length > 0 -%}
            {{ exceptions.raise_compiler_error(
                'DTI scoring refused (' ~ what ~ '): ' ~ (problems | join(' Also: '))) }}
        {%- endif -%}
    {%- endif -%}
    select 1 as dti_main_indicator_points_are_set
{% endmacro %}

{#- Pre-hook of fct_dti_scores: the final rows (period_month NULL) are re-read from
    meta.dti_frozen_scores on every run; delete+insert on period_month cannot replace NULL keys. -#}
{% macro delete_frozen_dti_scores() -%}
    {%- set existing = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
    {%- if existing is not none and not should_full_refresh() -%}
        delete from {{ this }} where period_month is null
    {%- else -%}
        select 1 as nothing_to_delete
    {%- endif -%}
{%- endmacro %}

{#- A source table, or an empty relation with the given columns when the table does not exist
    yet (a warehouse where DTI intake never ran: the service-index build and its tests create
    only the service-index raw tables). Staging views are recreated on every build, so the view
    reads the real table from the first build after intake created it.
    column_types: list of (column, type) of the columns the staging model reads. -#}
{% macro source_or_empty(source_name, table_name, column_types) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set existing = adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) if execute else relation -%}
    {%- if existing is none -%}
        (select
            {%- for name, type in column_types %}
            cast(null as {{ type }}) as {{ name }}{{ ',' if not loop.last }}
            {%- endfor %}
        where 1 = 0)
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
