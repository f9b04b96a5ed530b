-- Every measure the service-index indicators are built from, one column each, per month, unit
-- and unit basis (int_service_measures_unit_monthly turns it into the long table):
--   as_reported_period      the unit valid in the month (63 provinces before 2025-07, 34 after)
--   backcast_current_units  today's unit: the as-reported units' counts summed onto their
--                           latest successor, so a series crossing the 2025 mergers stays
--                           continuous. Numerators and denominators are summed, never ratios
--                           or scores; the derived measures are computed after the sum.
-- Every sum is exact (counts are integers; a `summed` measure stays DECIMAL through both sums,
-- macros/types.sql exact_total, and becomes a double at the end), so the totals do not depend on
-- the order rows reach the aggregate: a rerun gives the same bits.
-- The measures, their predicates and what each counts: macros/service_measures.sql (the
-- auditors' lineage counts the same predicates).
{%- set measures = service_measure_definitions() %}
{%- set additive_measures = measures | rejectattr('derived') | list %}
with

{{ service_measure_relations(windowed=true) }},

unit_attribution as (

    select * from {{ ref('int_unit_codes_attributed') }}

),
{%- for entity, entity_relation in service_measure_entities().items() %}

{{ entity }}_measures as (

    select
        period_month,
        unit_code,
        unit_level,
        {%- for measure in additive_measures | selectattr('entity', 'equalto', entity) %}
        {{ service_measure_aggregate(measure) }} as {{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ entity_relation.relation }}
    group by 1, 2, 3

),
{%- endfor %}

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
        {%- for measure in additive_measures %}
        coalesce({{ measure.entity }}_measures.{{ measure.code }}, 0) as {{ measure.code }}{{ ',' if not loop.last }}
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

backcast as (

    -- each as-reported unit of the month onto today's unit (its latest successor)
    select
        as_reported.period_month,
        unit_attribution.backcast_unit_code as unit_code,
        as_reported.unit_level,
        {%- for measure in additive_measures %}
        {{ service_measure_rollup(measure, 'as_reported.' ~ measure.code) }}
            as {{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from as_reported
    inner join unit_attribution
        on unit_attribution.reported_unit_code = as_reported.unit_code
        and unit_attribution.period_month = as_reported.period_month
    group by 1, 2, 3

),

both_bases as (

    select
        'as_reported_period' as unit_basis,
        as_reported.*
    from as_reported
    union all
    select
        'backcast_current_units' as unit_basis,
        backcast.*
    from backcast

),

derived as (

    -- the derived measures, after the sum (macros/service_measures.sql)
    select
        both_bases.*,
        {%- for measure in measures | selectattr('derived') %}
        {{ measure.derived }} as {{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from both_bases

),

final as (

    -- the exact totals of the `summed` measures become doubles only now, after both sums
    select
        unit_basis,
        period_month,
        unit_code,
        unit_level,
        {%- for measure in additive_measures %}
        {{ service_measure_value(measure, measure.code) }} as {{ measure.code }},
        {%- endfor %}
        {%- for measure in measures | selectattr('derived') %}
        {{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from derived

)

select * from final
