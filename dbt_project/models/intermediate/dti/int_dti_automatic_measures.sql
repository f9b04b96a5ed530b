-- One row per scoring context, reporting unit and automatic measure (dti_automatic_measures
-- seed): numerator and denominator of the service-index indicator summed over the DTI year up
-- to the context's month (or that month alone when is_year_to_date_sum is false), and the ratio.
-- The service index of a month is read on the basis that names the reporting unit: as reported
-- while the unit was valid, back-cast (onto today's units) for months before it existed (a new
-- province's 2025 report sees January-June 2025 of its predecessors).
with

reports as (

    select * from {{ ref('int_dti_reports_selected') }}

),

measures as (

    select * from {{ ref('stg_methodology__dti_automatic_measures') }}

),

service_index as (

    select
        period_month,
        unit_code,
        unit_level,
        is_backcast,
        indicator_code,
        numerator,
        denominator
    -- the scores fct_service_index_indicators_monthly publishes, read from the intermediate it
    -- is built from (an intermediate model never reads a mart)
    from {{ ref('int_service_index_scored') }}

),

joined as (

    select
        reports.context_key,
        reports.level,
        reports.reporting_unit_code,
        measures.automatic_measure,
        measures.source_model,
        measures.service_index_indicator_code,
        service_index.period_month,
        service_index.numerator,
        service_index.denominator
    from reports
    cross join measures
    inner join service_index
        on service_index.unit_code = reports.reporting_unit_code
        and service_index.unit_level = reports.level
        and service_index.indicator_code = measures.service_index_indicator_code
        and extract(year from service_index.period_month) = reports.year
        and service_index.period_month <= reports.measures_through_month
        and (measures.is_year_to_date_sum or service_index.period_month = reports.measures_through_month)
        and service_index.is_backcast = not (
            reports.reporting_unit_valid_from <= service_index.period_month
            and (
                reports.reporting_unit_valid_to is null
                or reports.reporting_unit_valid_to >= service_index.period_month
            )
        )

),

aggregated as (

    select
        context_key,
        level,
        reporting_unit_code,
        automatic_measure,
        source_model,
        service_index_indicator_code,
        min(period_month) as first_month,
        max(period_month) as last_month,
        count(distinct period_month) as months_measured,
        {{ exact_sum('numerator') }} as numerator,
        {{ exact_sum('denominator') }} as denominator
    from joined
    group by 1, 2, 3, 4, 5, 6

),

final as (

    select
        aggregated.*,
        case when denominator > 0 then numerator / denominator end as automatic_ratio,
        {{ dbt.concat([
            "source_model", "' indicator '", "service_index_indicator_code", "' '",
            "cast(first_month as " ~ dbt.type_string() ~ ")", "'..'",
            "cast(last_month as " ~ dbt.type_string() ~ ")"
        ]) }} as automatic_source
    from aggregated

)

select * from final
