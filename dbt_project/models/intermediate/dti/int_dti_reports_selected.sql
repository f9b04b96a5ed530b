-- One row per scoring context and reporting unit: the latest accepted report (highest version)
-- per (year, unit_code) as of the context's date (provisional: report_date on or before the
-- month's last day; final: any date), with
--   the reporting unit: the version of the code valid on the DTI year's last day (DTI 2024
--     reports were filed by the 63 old provinces, DTI 2025 by the 34 new ones), and
--   the ranking unit: the unit the code is attributed to on the year's ranking date (provinces:
--     units_as_of; ministries: ministry_units_as_of) through the registry's crosswalks
--     (int_unit_codes_attributed). An old province ranked in a year whose units_as_of is after
--     the 2025 merger goes to its new province, where main-indicator values are averaged.
-- The national level has no unit registry: its one unit is the country (seed dti_national_unit),
-- the reporting and the ranking unit at once.
with

contexts as (

    select * from {{ ref('int_dti_scoring_contexts') }}

),

submissions as (

    -- accepted files (every version) with a unit code
    select * from {{ ref('stg_dti_reports__submissions') }}
    where is_accepted and unit_code is not null

),

units as (

    select * from {{ ref('int_units_unioned') }}

),

attribution as (

    select * from {{ ref('int_unit_codes_attributed') }}

),

national_unit as (

    select * from {{ ref('stg_methodology__dti_national_unit') }}

),

candidates as (

    select
        contexts.context_key,
        contexts.year,
        contexts.period_month,
        contexts.as_of_date,
        contexts.measures_through_month,
        contexts.is_provisional,
        contexts.methodology_version,
        contexts.year_end_date,
        case
            when submissions.level = 'ministry' then contexts.ministry_units_as_of
            else contexts.units_as_of
        end as ranking_date,
        submissions.level,
        submissions.unit_code as reporting_unit_code,
        submissions.submission_id,
        submissions.submission_version,
        submissions.report_date,
        row_number() over (
            partition by contexts.context_key, submissions.year, submissions.level, submissions.unit_code
            order by submissions.submission_version desc, submissions.received_at desc,
                submissions.submission_id desc  -- a total order
        ) as recency
    from contexts
    inner join submissions
        on submissions.year = contexts.year
        and (contexts.as_of_date is null or submissions.report_date <= contexts.as_of_date)

),

latest as (

    select * from candidates
    where recency = 1

),

registry_units as (

    select
        latest.context_key,
        latest.year,
        latest.period_month,
        latest.as_of_date,
        latest.measures_through_month,
        latest.is_provisional,
        latest.methodology_version,
        latest.level,
        latest.submission_id,
        latest.submission_version,
        latest.report_date,
        latest.reporting_unit_code,
        reporting_unit.unit_key as reporting_unit_key,
        reporting_unit.valid_from as reporting_unit_valid_from,
        reporting_unit.valid_to as reporting_unit_valid_to,
        latest.ranking_date,
        ranking_unit.unit_code,
        ranking_unit.unit_key,
        ranking_unit.unit_name,
        case
            when latest.level = 'ministry' then coalesce(ranking_unit.dti_group, 'non_dvc')
            else 'all'
        end as unit_group
    from latest
    inner join units as reporting_unit
        on reporting_unit.unit_code = latest.reporting_unit_code
        and reporting_unit.unit_level = latest.level
        and reporting_unit.valid_from <= latest.year_end_date
        and (reporting_unit.valid_to is null or reporting_unit.valid_to >= latest.year_end_date)
    inner join attribution
        on attribution.reported_unit_code = latest.reporting_unit_code
        and attribution.unit_level = latest.level
        and attribution.period_month = cast({{ dbt.date_trunc('month', 'latest.ranking_date') }} as date)
    inner join units as ranking_unit
        on ranking_unit.unit_code = attribution.unit_code
        and ranking_unit.unit_level = latest.level
        and ranking_unit.valid_from <= latest.ranking_date
        and (ranking_unit.valid_to is null or ranking_unit.valid_to >= latest.ranking_date)

),

national as (

    select
        latest.context_key,
        latest.year,
        latest.period_month,
        latest.as_of_date,
        latest.measures_through_month,
        latest.is_provisional,
        latest.methodology_version,
        latest.level,
        latest.submission_id,
        latest.submission_version,
        latest.report_date,
        latest.reporting_unit_code,
        {{ dbt.concat(["latest.level", "'-'", "latest.reporting_unit_code"]) }} as reporting_unit_key,
        cast(null as date) as reporting_unit_valid_from,
        cast(null as date) as reporting_unit_valid_to,
        latest.ranking_date,
        latest.reporting_unit_code as unit_code,
        {{ dbt.concat(["latest.level", "'-'", "latest.reporting_unit_code"]) }} as unit_key,
        national_unit.unit_name_vi as unit_name,
        'all' as unit_group
    from latest
    left join national_unit
        on national_unit.unit_code = latest.reporting_unit_code
    where latest.level = 'national'

),

final as (

    select * from registry_units
    union all
    select * from national

)

select * from final
