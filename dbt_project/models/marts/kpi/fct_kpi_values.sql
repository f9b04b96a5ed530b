-- One row per KPI value from the four kinds of source, with its provenance (docs/kpi_methodology.md):
--   platform              the 766 service-index marts (units as reported; all ministries, all
--                         provinces and the nation as sums of numerators and denominators) and the
--                         DTI ranking (DTI-UNIT); release = the source's methodology version
--   agency_report         the latest accepted version of each unit's report (release 'report v<n>')
--   national_statistics   every release of every statistics file (is_current_release: the latest)
--   international_index   Viet Nam's (var kpi_home_country) components, and its rank within the
--                         peer group (asean_rank: computed when the whole group is in the file,
--                         else the file's own asean_rank, else NULL)
-- publication_basis follows the gate of the source's period (meta.publication_gate): platform
-- values the service-index month, DTI-UNIT the DTI year, agency reports the 'kpi_reports'
-- period; a gated period absent from the gate was never validated: 'withheld'. Statistics and
-- index values are not gated ('not_gated').
with

catalogue as (

    select * from {{ ref('stg_kpi__catalogue') }}

),

gate as (

    select * from {{ ref('stg_kpi__publication_gate') }}

),

platform_values as (

    select * from {{ ref('int_kpi_platform_values') }}

),

dti_values as (

    select * from {{ ref('int_kpi_dti_values') }}

),

report_values as (

    select * from {{ ref('int_kpi_report_values_selected') }}

),

statistics_values as (

    select * from {{ ref('int_kpi_statistics_values_released') }}

),

index_values as (

    select * from {{ ref('int_kpi_index_values_peered') }}
    where country_code = '{{ var("kpi_home_country") }}'

),

index_sources as (

    select * from {{ ref('stg_kpi__international_sources') }}

),

unioned as (

    select
        kpi_code,
        measure,
        level,
        unit_code,
        is_aggregate,
        {{ kpi_month_key('period_month') }} as period,
        'month' as period_kind,
        period_month as period_start,
        period_end,
        value,
        numerator,
        denominator,
        'platform' as source_kind,
        'platform' as series,
        methodology_version as release,
        true as is_current_release,
        'fct_service_index_indicators_monthly' as source_ref,
        cast(null as {{ dbt.type_int() }}) as source_row,
        'service_index' as gate_index,
        {{ kpi_month_key('period_month') }} as gate_period_key,
        methodology_version as source_methodology_version
    from platform_values

    union all

    select
        kpi_code,
        measure,
        level,
        unit_code,
        false as is_aggregate,
        period,
        period_kind,
        period_start,
        period_end,
        value,
        cast(null as {{ type_double() }}) as numerator,
        cast(null as {{ type_double() }}) as denominator,
        'platform' as source_kind,
        series,
        case when is_provisional then 'provisional' else 'final' end as release,
        true as is_current_release,
        'rpt_dti_ranking' as source_ref,
        cast(null as {{ dbt.type_int() }}) as source_row,
        'dti' as gate_index,
        {{ dbt.cast('year', dbt.type_string()) }} as gate_period_key,
        methodology_version as source_methodology_version
    from dti_values

    union all

    select
        kpi_code,
        measure,
        level,
        unit_code,
        false as is_aggregate,
        period,
        case
            when period like '%Q%' then 'quarter'
            when {{ dbt.length('period') }} = 4 then 'year'
            else 'month'
        end as period_kind,
        period_start,
        period_end,
        value,
        numerator,
        denominator,
        'agency_report' as source_kind,
        'agency_report' as series,
        {{ dbt.concat(["'report v'", dbt.cast('submission_version', dbt.type_string())]) }} as release,
        true as is_current_release,
        submission_id as source_ref,
        source_row,
        'kpi_reports' as gate_index,
        period as gate_period_key,
        template_catalogue_version as source_methodology_version
    from report_values

    union all

    select
        kpi_code,
        measure,
        level,
        unit_code,
        unit_code is null and level <> 'national' as is_aggregate,
        period,
        period_kind,
        period_start,
        period_end,
        value,
        cast(null as {{ type_double() }}) as numerator,
        cast(null as {{ type_double() }}) as denominator,
        'national_statistics' as source_kind,
        series,
        release,
        is_current_release,
        load_id as source_ref,
        source_row,
        cast(null as {{ dbt.type_string() }}) as gate_index,
        cast(null as {{ dbt.type_string() }}) as gate_period_key,
        cast(null as {{ dbt.type_string() }}) as source_methodology_version
    from statistics_values

    union all

    select
        index_sources.kpi_code,
        index_sources.measure,
        'national' as level,
        cast(null as {{ dbt.type_string() }}) as unit_code,
        false as is_aggregate,
        {{ dbt.cast('index_values.edition', dbt.type_string()) }} as period,
        'year' as period_kind,
        {{ kpi_year_start('index_values.edition') }} as period_start,
        {{ kpi_year_end('index_values.edition') }} as period_end,
        case
            when index_sources.derivation <> 'peer_rank' then index_values.value
            when index_values.is_peer_group_complete then cast(index_values.peer_rank_ascending as {{ type_double() }})
            else published_peer_ranks.value
        end as value,
        cast(null as {{ type_double() }}) as numerator,
        cast(null as {{ type_double() }}) as denominator,
        'international_index' as source_kind,
        index_sources.index_publisher as series,
        {{ dbt.concat([
            'index_values.index_code', "' '", dbt.cast('index_values.edition', dbt.type_string())
        ]) }} as release,
        index_values.is_current_release,
        index_values.load_id as source_ref,
        index_values.source_row,
        cast(null as {{ dbt.type_string() }}) as gate_index,
        cast(null as {{ dbt.type_string() }}) as gate_period_key,
        cast(null as {{ dbt.type_string() }}) as source_methodology_version
    from index_values
    inner join index_sources
        on index_sources.index_code = index_values.index_code
        and index_sources.component = index_values.component
    left join index_values as published_peer_ranks
        -- a peer group not all in the file: the file's own peer rank (e.g. asean_rank), if any
        on published_peer_ranks.load_id = index_values.load_id
        and published_peer_ranks.country_code = index_values.country_code
        and published_peer_ranks.edition = index_values.edition
        and published_peer_ranks.component = index_sources.fallback_component

),

final as (

    select
        unioned.kpi_code,
        unioned.measure,
        unioned.level,
        unioned.unit_code,
        unioned.is_aggregate,
        unioned.period,
        unioned.period_kind,
        cast(unioned.period_start as date) as period_start,
        cast(unioned.period_end as date) as period_end,
        unioned.value,
        unioned.numerator,
        unioned.denominator,
        unioned.source_kind,
        unioned.series,
        unioned.release,
        unioned.is_current_release,
        unioned.source_ref,
        unioned.source_row,
        unioned.gate_index,
        unioned.gate_period_key,
        case
            when unioned.gate_index is null then 'not_gated'
            else coalesce(gate.publication_basis, 'withheld')
        end as publication_basis,
        catalogue.methodology_version,
        unioned.source_methodology_version
    from unioned
    left join catalogue
        on catalogue.kpi_code = unioned.kpi_code
    left join gate
        on gate.index_name = unioned.gate_index
        and gate.period_key = unioned.gate_period_key

)

select * from final
