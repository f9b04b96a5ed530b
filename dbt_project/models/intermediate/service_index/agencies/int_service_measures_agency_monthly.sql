-- LONG table of the dossier measures at the handling agency's grain: one row per month,
-- handling agency and measure (measure_code, measure_value), with the agency's parent unit and
-- levels from int_service_agencies_by_month. Only the dossier measures of
-- macros/service_measures.sql exist at this grain (procedures and complaints are reported per
-- ranked unit, without an agency): the additive ones are aggregated with
-- service_measure_aggregate over the agency's dossier rows, the derived ones (3.3's
-- sync-adjusted online dossiers, 5.4's satisfied dossiers) computed after the sum from the
-- same definitions. A summed measure stays an exact total until service_measure_value.
{%- set dossier_measures = service_measure_definitions() | selectattr('entity', 'equalto', 'dossier') | list %}
{%- set additive_measures = dossier_measures | rejectattr('derived') | list %}
{%- set derived_measures = dossier_measures | selectattr('derived') | list %}
with

dossiers as (

    select * from {{ ref('int_dossiers_timed') }}
    where {{ in_period_window('period_month') }}

),

agencies as (

    select * from {{ ref('int_service_agencies_by_month') }}
    where {{ in_period_window('period_month') }}

),

aggregated as (

    select
        period_month,
        handling_agency_code as agency_code,
        {%- for measure in additive_measures %}
        {{ service_measure_aggregate(measure) }} as {{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from dossiers
    group by 1, 2

),

derived as (

    select
        aggregated.*,
        {%- for measure in derived_measures %}
        {{ measure.derived }} as {{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from aggregated

),

valued as (

    select
        period_month,
        agency_code,
        {%- for measure in dossier_measures %}
        {{ service_measure_value(measure, measure.code) }} as {{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from derived

),

unpivoted as (

    {{- service_measures_unpivoted('valued', ['period_month', 'agency_code'], dossier_measures) }}

),

final as (

    select
        unpivoted.period_month,
        unpivoted.agency_code,
        agencies.agency_level,
        agencies.parent_unit_code,
        agencies.parent_unit_level,
        unpivoted.measure_code,
        unpivoted.measure_value
    from unpivoted
    inner join agencies
        on agencies.period_month = unpivoted.period_month
        and agencies.agency_code = unpivoted.agency_code

)

select * from final
