{#- The scoring of the 766 service index, written once for every grain it is computed at: the
    unit and month (int_service_index_scored), the unit and period (quarter, year, year to date:
    int_service_index_period_scored) and the handling agency and month
    (int_service_index_agency_scored). Each model builds its long measures table (one row per
    grain key, measure_code, measure_value: the numerators and denominators summed at that
    grain, never ratios or scores) and calls these macros.

    service_index_scored(measures, keys, version_month, indicator_level, agency_grain)
      measures         the CTE or relation of the long measures table
      keys             the columns that identify one scored entity (e.g. period_month,
                       unit_basis, unit_code); the measures table has them all
      version_month    the column whose month picks the methodology version (a period: its end)
      indicator_level  the column whose value picks the level-specific indicators of the seed
                       (applies_to 'all' or this level: 'province' / 'ministry')
      agency_grain     true below the ranked unit: an indicator is defined there only when both
                       its numerator and its denominator are dossier measures
                       (macros/service_measures.sql); the others are 'not applicable at the
                       grain' (is_applicable_at_grain false, null ratio and points)
    Every indicator of the version in force, per entity:
      ratio  = numerator / denominator; a zero denominator gives 0 (policy 'zero') or null
               (policy 'not_applicable': shown as N/A, earns nothing)
      points = linear:     max_points x min(1, ratio)
               capped:     max_points x min(1, ratio / target_ratio)
               monitoring: 0
    An entity with no dossier handled (measure dossiers_handled) is not scored (null points):
    the index is computed from dossier data. -#}
{% macro service_index_scored(measures, keys, version_month='period_month', indicator_level='unit_level',
                              agency_grain=false) %}
{%- set dossier_measures = service_measure_definitions() | selectattr('entity', 'equalto', 'dossier')
                           | map(attribute='code') | list %}
{%- set key_list = keys | join(', ') %}
service_scoring_entities as (

    select
        {{ key_list }},
        max({{ indicator_level }}) as scoring_indicator_level,
        max({{ version_month }}) as scoring_version_month,
        max(case when measure_code = 'dossiers_handled' then measure_value end) as dossiers_handled
    from {{ measures }}
    group by {{ key_list }}

),

service_scoring_versioned as (

    select
        service_scoring_entities.*,
        versions.methodology_version
    from service_scoring_entities
    inner join {{ ref('stg_methodology__service_index_versions') }} as versions
        on versions.applies_from_month <= service_scoring_entities.scoring_version_month
        and (
            versions.applies_to_month is null
            or versions.applies_to_month >= service_scoring_entities.scoring_version_month
        )

),

service_scoring_grid as (

    select
        service_scoring_versioned.*,
        indicators.group_code,
        indicators.indicator_code,
        indicators.indicator_order,
        indicators.scoring_rule,
        indicators.max_points,
        indicators.target_ratio,
        indicators.zero_denominator_policy,
        indicators.numerator_measure,
        indicators.denominator_measure,
        {%- if agency_grain %}
        (
            indicators.numerator_measure in ('{{ dossier_measures | join("', '") }}')
            and indicators.denominator_measure in ('{{ dossier_measures | join("', '") }}')
        ) as is_applicable_at_grain
        {%- else %}
        true as is_applicable_at_grain
        {%- endif %}
    from service_scoring_versioned
    inner join {{ ref('stg_methodology__service_index_indicators') }} as indicators
        on indicators.methodology_version = service_scoring_versioned.methodology_version
        and indicators.applies_to in ('all', service_scoring_versioned.scoring_indicator_level)

),

service_scoring_valued as (

    select
        service_scoring_grid.*,
        coalesce(numerators.measure_value, 0) as numerator,
        coalesce(denominators.measure_value, 0) as denominator
    from service_scoring_grid
    left join {{ measures }} as numerators
        on {% for key in keys %}numerators.{{ key }} = service_scoring_grid.{{ key }} and {% endfor %}
        numerators.measure_code = service_scoring_grid.numerator_measure
    left join {{ measures }} as denominators
        on {% for key in keys %}denominators.{{ key }} = service_scoring_grid.{{ key }} and {% endfor %}
        denominators.measure_code = service_scoring_grid.denominator_measure

),

service_scoring_ratios as (

    select
        service_scoring_valued.*,
        case
            when not is_applicable_at_grain then null
            when denominator > 0 then numerator / cast(denominator as {{ type_double() }})
            when zero_denominator_policy = 'zero' then 0
            else null
        end as ratio,
        coalesce(dossiers_handled > 0, false) as is_scored
    from service_scoring_valued

),

service_scoring_points as (

    select
        service_scoring_ratios.*,
        case
            when not is_scored then null
            when ratio is null then null
            when scoring_rule = 'monitoring' then 0
            when scoring_rule = 'linear' then max_points * least(1, ratio)
            when scoring_rule = 'capped' then max_points * least(1, ratio / target_ratio)
        end as points
    from service_scoring_ratios

)
{%- endmacro %}


{#- The scored rows of service_index_scored pivoted to one row per entity (keys): every
    sub-indicator's numerator, denominator, ratio and points as wide columns
    (i<code>_numerator ...; generated from the indicator seed: the calling model declares
    `-- depends_on: {{ ref('stg_methodology__service_index_indicators') }}`), the portal's six
    groups, the decision's five (group 4 = CLGQ + TTTT), applicable_max_points and
    total_score_unrounded (exact sums, macros/types.sql). A CTE named service_index_pivoted. -#}
{% macro service_index_pivoted(scored, keys) %}
{%- set indicator_codes = service_index_indicator_codes() %}
{%- set key_list = keys | join(', ') %}
service_index_scored_grouped as (

    select
        scored_rows.*,
        groups.decision_group_no
    from {{ scored }} as scored_rows
    left join {{ ref('stg_methodology__service_index_groups') }} as groups
        on groups.methodology_version = scored_rows.methodology_version
        and groups.group_code = scored_rows.group_code

),

service_index_pivoted as (

    select
        {{ key_list }},
        max(methodology_version) as methodology_version,
        {%- for code in indicator_codes %}
        {%- set prefix = indicator_column_prefix(code) %}
        max(case when indicator_code = '{{ code }}' then numerator end) as {{ prefix }}_numerator,
        max(case when indicator_code = '{{ code }}' then denominator end) as {{ prefix }}_denominator,
        max(case when indicator_code = '{{ code }}' then ratio end) as {{ prefix }}_ratio,
        max(case when indicator_code = '{{ code }}' then points end) as {{ prefix }}_points,
        {%- endfor %}
        -- the portal's six groups
        {%- for group_code in service_index_portal_groups() %}
        {{ exact_sum("case when group_code = '" ~ group_code ~ "' then points end") }}
            as {{ group_code | lower }}_points,
        {%- endfor %}
        -- the decision's five groups (766/QĐ-TTg): group 4 = CLGQ + TTTT
        {%- for group_no in range(1, 6) %}
        {{ exact_sum('case when decision_group_no = ' ~ group_no ~ ' then points end') }}
            as group_{{ group_no }}_points,
        {%- endfor %}
        {{ exact_sum('case when points is not null then max_points end') }} as applicable_max_points,
        {{ exact_sum('points') }} as total_score_unrounded
    from service_index_scored_grouped
    group by {{ key_list }}

)
{%- endmacro %}

{#- The portal's six groups, in display order (seeds/methodology/service_index_groups_766_2022.csv). -#}
{% macro service_index_portal_groups() %}
    {{ return(['CKMB', 'TDGQ', 'CLGQ', 'TTTT', 'MDSH', 'MDHL']) }}
{% endmacro %}

{#- The column list of the pivoted wide columns, for the final select of a wide mart:
    `{{ service_index_wide_columns('pivoted') }}` -#}
{% macro service_index_wide_columns(relation) %}
    {%- for code in service_index_indicator_codes() %}
    {%- set prefix = indicator_column_prefix(code) %}
        {{ relation }}.{{ prefix }}_numerator,
        {{ relation }}.{{ prefix }}_denominator,
        {{ relation }}.{{ prefix }}_ratio,
        {{ relation }}.{{ prefix }}_points,
    {%- endfor %}
    {%- for group_code in service_index_portal_groups() %}
        {{ relation }}.{{ group_code | lower }}_points,
    {%- endfor %}
    {%- for group_no in range(1, 6) %}
        {{ relation }}.group_{{ group_no }}_points,
    {%- endfor %}
        {{ relation }}.applicable_max_points,
        {{ relation }}.total_score_unrounded,
        round({{ relation }}.total_score_unrounded, 2) as total_score
{%- endmacro %}
