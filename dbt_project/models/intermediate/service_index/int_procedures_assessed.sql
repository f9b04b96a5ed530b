-- One row per month, ranked unit and procedure of the catalogue snapshot, with the
-- procedure-level facts of the 766 index (groups 1, 4 and 5 of 766/QĐ-TTg; research note §1.1).
-- Rows reported under an old code after a merger are attributed to the successor; when two old
-- units list the same procedure, the row of the unit whose code the successor kept wins.
with

procedures as (

    select * from {{ ref('stg_dvc_portal__procedures') }}
    where is_valid and {{ in_period_window('period_month') }}

),

unit_attribution as (

    select * from {{ ref('int_unit_codes_attributed') }}

),

calendar as (

    select * from {{ ref('int_calendar_working_days') }}

),

attributed as (

    select
        procedures.*,
        unit_attribution.unit_code,
        unit_attribution.unit_level,
        unit_attribution.backcast_unit_code,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'procedures.period_month')) }} as date)
            as period_last_date,
        row_number() over (
            partition by procedures.period_month, unit_attribution.unit_code, procedures.procedure_code
            order by
                case when procedures.reported_unit_code = unit_attribution.unit_code then 0 else 1 end,
                procedures.reported_unit_code
        ) as duplicate_rank
    from procedures
    -- codes unknown in the month are rejected upstream by validation
    inner join unit_attribution
        on unit_attribution.reported_unit_code = procedures.reported_unit_code
        and unit_attribution.period_month = procedures.period_month

),

deduplicated as (

    select
        *,
        -- 766/QĐ-TTg indicator 1.1 (NĐ 63/2010 Điều 15): announce >= 20 working days (ministry)
        -- or >= 5 (province) before the legal basis takes effect
        case when unit_level = 'ministry' then 20 else 5 end as announcement_lead_required_working_days,
        -- 766/QĐ-TTg indicator 1.2: publish within 10 (ministry) / 5 (province) working days
        case when unit_level = 'ministry' then 10 else 5 end as publication_allowed_working_days
    from attributed
    where duplicate_rank = 1

),

timed as (

    select
        deduplicated.*,
        {{ working_days_between('announced_day', 'effective_day') }} as announcement_lead_working_days,
        {{ working_days_between('announced_day', 'published_day') }} as publication_working_days,
        publication_deadline_day.calendar_date as publication_deadline_on
    from deduplicated
    {{ join_calendar('announced_day', 'deduplicated.announced_on') }}
    {{ join_calendar('effective_day', 'deduplicated.legal_basis_effective_on') }}
    {{ join_calendar('published_day', 'deduplicated.published_on') }}
    left join calendar as publication_deadline_day
        on publication_deadline_day.working_day_index
            = announced_day.working_day_index + deduplicated.publication_allowed_working_days
        and publication_deadline_day.is_working_day

),

final as (

    select
        period_month,
        unit_code,
        unit_level,
        backcast_unit_code,
        reported_unit_code,
        procedure_code,
        procedure_name,
        announced_on,
        legal_basis_effective_on,
        published_on,
        publication_deadline_on,
        announcement_lead_working_days,
        announcement_lead_required_working_days,
        publication_working_days,
        publication_allowed_working_days,

        -- 1.1: announced in the month; on time when the lead is long enough (no effective date:
        -- cannot be shown on time, counted late)
        -- (the "in period" flags are written once, for the month and the periods:
        -- macros/service_periods.sql)
        {{ service_procedure_period_flag('is_announced_in_period', 'period_month', 'period_last_date') }}
            as is_announced_in_period,
        coalesce(announcement_lead_working_days >= announcement_lead_required_working_days, false)
            as is_announced_on_time,

        -- 1.2: published in the month, or still unpublished at the month's end with its
        -- publication deadline inside the month
        {{ service_procedure_period_flag('is_published_in_period', 'period_month', 'period_last_date') }}
            as is_published_in_period,
        {{ service_procedure_period_flag('is_publication_overdue_in_period', 'period_month', 'period_last_date') }}
            as is_publication_overdue_in_period,
        {{ service_procedure_period_flag('is_published_on_time', 'period_month', 'period_last_date') }}
            as is_published_on_time,

        -- 1.3: published by the month's end, with all 7 parts of NĐ 63/2010 Điều 8.2
        {{ service_procedure_period_flag('is_published', 'period_month', 'period_last_date') }} as is_published,
        coalesce(mandatory_parts_present >= 7, false) as has_all_mandatory_parts,

        -- 3.1 / 3.2: offered online (partial or full)
        coalesce(online_service_level in ('partial', 'full'), false) as is_online_service,
        coalesce(is_full_online_eligible, false) as is_full_online_eligible,
        coalesce(has_fee, false) as has_fee,
        coalesce(requires_paper_result, false) as requires_paper_result,
        coalesce(serves_citizens, false) as serves_citizens,
        coalesce(is_certification_procedure, false) as is_certification_procedure,
        source_id,
        source_row
    from timed

)

select * from final
