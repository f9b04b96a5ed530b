-- The agencies' DTI data-quality scorecard (docs/audit.md): one row per DTI year and reporting
-- unit (the folder the unit submits to, inbox/<year>/<unit_code>/). Every year on every run (a
-- table: the inputs are a few hundred files a year).
--   submitted_on_time      the unit's first ACCEPTED report was received by the platform
--                          (received_at, intake's clock: the agency cannot backdate it) on or
--                          before the year's report_deadline (seed dti_years), end of that day;
--                          is_report_dated_on_time says the same of the date written in the file
--   completeness_ratio     catalogue sub-indicators (year's version, unit's level) with a usable
--                          row in the latest accepted report / sub-indicators of the catalogue
--   files_rejected, rows_rejected, rejections_by_rule   what intake and GX refused, and why
--   resubmissions          files received after the first (versions - 1, accepted or not)
--   divergent_indicators   automatic sub-indicators whose self-reported ratio diverged from the
--                          service-index measurement (fct_dti_indicator_divergence, latest
--                          provisional month of the year)
with

files as (

    select * from {{ ref('stg_dti_reports__submissions') }}

),

report_rows as (

    select * from {{ ref('stg_dti_reports__report_values') }}

),

good_values as (

    select * from report_rows
    where is_accepted

),

years as (

    select * from {{ ref('stg_methodology__dti_years') }}

),

catalogue as (

    select * from {{ ref('stg_methodology__dti_indicators') }}
    where node_type = 'sub'

),

divergence as (

    select * from {{ ref('fct_dti_indicator_divergence') }}

),

units as (

    select
        year,
        folder_unit_code as unit_code,
        max(level) as level,
        count(*) as files_received,
        count(case when is_accepted then 1 end) as files_accepted,
        count(case when not is_accepted then 1 end) as files_rejected,
        max(submission_version) - 1 as resubmissions,
        min(received_at) as first_received_at,
        min(case when is_accepted then received_at end) as first_accepted_received_at,
        min(case when is_accepted then report_date end) as first_accepted_report_date,
        string_agg(distinct case when not is_accepted then rejection_rule end, ', '
            order by case when not is_accepted then rejection_rule end) as file_rejection_rules
    from files
    group by 1, 2

),

latest_accepted as (

    select *
    from files
    where is_accepted
    qualify row_number() over (partition by year, folder_unit_code
        order by submission_version desc, received_at desc, submission_id desc) = 1

),

row_rejections as (

    select
        files.year,
        files.folder_unit_code as unit_code,
        report_rows.rejection_rule,
        count(*) as rows_rejected
    from report_rows
    inner join files
        on files.submission_id = report_rows.submission_id
    where not report_rows.is_accepted
    group by 1, 2, 3

),

rejections as (

    select
        year,
        unit_code,
        sum(rows_rejected) as rows_rejected,
        string_agg(rejection_rule || ': ' || cast(rows_rejected as {{ dbt.type_string() }}), ', '
            order by rejection_rule) as rejections_by_rule
    from row_rejections
    group by 1, 2

),

present as (

    select
        latest_accepted.year,
        latest_accepted.folder_unit_code as unit_code,
        count(distinct catalogue.indicator_code) as sub_indicators_present
    from latest_accepted
    inner join years
        on years.year = latest_accepted.year
    inner join good_values
        on good_values.submission_id = latest_accepted.submission_id
    inner join catalogue
        on catalogue.methodology_version = years.methodology_version
        and catalogue.level = latest_accepted.level
        and catalogue.indicator_code = good_values.indicator_code
    where good_values.reported_value is not null
        or (good_values.reported_numerator is not null and good_values.reported_denominator is not null)
    group by 1, 2

),

expected as (

    select years.year, catalogue.level, count(*) as sub_indicators_expected
    from years
    inner join catalogue
        on catalogue.methodology_version = years.methodology_version
    group by 1, 2

),

latest_divergence as (

    select
        year,
        reporting_unit_code as unit_code,
        period_month,
        count(case when is_divergent then 1 end) as divergent_indicators,
        count(*) as compared_indicators,
        string_agg(case when is_divergent then indicator_code end, ', ' order by indicator_code)
            as divergent_indicator_codes
    from divergence
    group by 1, 2, 3
    qualify row_number() over (partition by year, reporting_unit_code order by period_month desc) = 1

),

final as (

    select
        'dti' as index_name,
        units.year,
        units.level,
        units.unit_code,
        years.report_deadline,
        units.first_received_at,
        units.first_accepted_received_at,
        units.first_accepted_report_date,
        coalesce(units.first_accepted_received_at
            < cast({{ dbt.dateadd('day', 1, 'cast(years.report_deadline as date)') }} as timestamp), false)
            as submitted_on_time,
        coalesce(units.first_accepted_report_date <= cast(years.report_deadline as date), false)
            as is_report_dated_on_time,
        latest_accepted.submission_id as latest_submission_id,
        latest_accepted.submission_version as latest_version,
        coalesce(present.sub_indicators_present, 0) as sub_indicators_present,
        expected.sub_indicators_expected,
        round(cast(coalesce(present.sub_indicators_present, 0) as {{ dxmon.type_double() }})
            / nullif(expected.sub_indicators_expected, 0), 4) as completeness_ratio,
        units.files_received,
        units.files_accepted,
        units.files_rejected,
        units.file_rejection_rules,
        coalesce(rejections.rows_rejected, 0) as rows_rejected,
        rejections.rejections_by_rule,
        units.resubmissions,
        latest_divergence.period_month as divergence_period_month,
        coalesce(latest_divergence.divergent_indicators, 0) as divergent_indicators,
        latest_divergence.compared_indicators,
        latest_divergence.divergent_indicator_codes
    from units
    left join years
        on years.year = units.year
    left join latest_accepted
        on latest_accepted.year = units.year
        and latest_accepted.folder_unit_code = units.unit_code
    left join present
        on present.year = units.year
        and present.unit_code = units.unit_code
    left join expected
        on expected.year = units.year
        and expected.level = units.level
    left join rejections
        on rejections.year = units.year
        and rejections.unit_code = units.unit_code
    left join latest_divergence
        on latest_divergence.year = units.year
        and latest_divergence.unit_code = units.unit_code

)

select * from final
