-- One row per complaint (phản ánh, kiến nghị) of a month's extract, judged as of the month's
-- end against the working-day deadlines of 766/QĐ-TTg indicator 5.2, with the facts 5.1 and
-- 5.3 count. Steps after the month's end are not yet known in that month.
with

complaints as (

    select * from {{ ref('stg_dvc_portal__complaints') }}
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
        complaints.period_month,
        complaints.complaint_id,
        complaints.reported_unit_code,
        unit_attribution.unit_code,
        unit_attribution.unit_level,
        unit_attribution.backcast_unit_code,
        complaints.complaint_type,
        complaints.received_at,
        complaints.likes,
        complaints.dislikes,
        complaints.is_re_raised,
        complaints.dossier_id,
        cast(complaints.period_month as {{ dbt.type_timestamp() }}) as period_start_at,
        cast({{ dbt.dateadd('month', 1, 'complaints.period_month') }} as {{ dbt.type_timestamp() }})
            as period_end_at,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'complaints.period_month')) }} as date)
            as period_last_date,
        -- as of the month's end: a step dated later has not happened yet
        case when complaints.transferred_at < {{ dbt.dateadd('month', 1, 'complaints.period_month') }}
            then complaints.transferred_at end as transferred_at,
        case when complaints.rejected_at < {{ dbt.dateadd('month', 1, 'complaints.period_month') }}
            then complaints.rejected_at end as rejected_at,
        case when complaints.first_supplement_request_at < {{ dbt.dateadd('month', 1, 'complaints.period_month') }}
            then complaints.first_supplement_request_at end as first_supplement_request_at,
        case when complaints.processed_at < {{ dbt.dateadd('month', 1, 'complaints.period_month') }}
            then complaints.processed_at end as processed_at,
        case when complaints.published_at < {{ dbt.dateadd('month', 1, 'complaints.period_month') }}
            then complaints.published_at end as published_at,
        complaints.source_id,
        complaints.source_row
    from complaints
    -- codes unknown in the month are rejected upstream by validation
    inner join unit_attribution
        on unit_attribution.reported_unit_code = complaints.reported_unit_code
        and unit_attribution.period_month = complaints.period_month

),

dated as (

    select
        attributed.*,
        -- deadlines run from reception, or restart at the latest transfer (by VPCP or another
        -- ministry/province)
        cast(coalesce(transferred_at, received_at) as date) as deadline_start_date,
        -- closed = answer published or complaint rejected (as of the month's end)
        coalesce(published_at, rejected_at) as closed_at
    from attributed

),

stepped as (

    select
        dated.*,
        {{ working_days_between('start_day', 'rejected_day') }} as reject_working_days,
        {{ working_days_between('start_day', 'supplement_day') }} as first_supplement_working_days,
        {{ working_days_between('start_day', 'processed_day') }} as processing_working_days,
        {{ working_days_between('start_day', 'judged_day') }} as open_working_days_at_period_end,
        {{ working_days_between('processed_day', 'published_day') }} as publication_working_days,
        {{ working_days_between('processed_day', 'judged_day') }} as unpublished_working_days_at_period_end
    from dated
    {{ join_calendar('start_day', 'dated.deadline_start_date') }}
    {{ join_calendar('rejected_day', 'cast(dated.rejected_at as date)') }}
    {{ join_calendar('supplement_day', 'cast(dated.first_supplement_request_at as date)') }}
    {{ join_calendar('processed_day', 'cast(dated.processed_at as date)') }}
    {{ join_calendar('published_day', 'cast(dated.published_at as date)') }}
    {{ join_calendar('judged_day', 'dated.period_last_date') }}

),

judged as (

    select
        stepped.*,
        -- 766/QĐ-TTg 5.2, deadlines in working days per step
        case
            -- rejected: only the rejection step applies (<= 2)
            when rejected_at is not null then coalesce(reject_working_days <= 2, false)
            else
                -- first supplement request <= 5 (optional step)
                (first_supplement_request_at is null or coalesce(first_supplement_working_days <= 5, false))
                -- processed (answer ready) <= 15; not yet: judged at the month's end
                and case
                    when processed_at is not null then coalesce(processing_working_days <= 15, false)
                    else coalesce(open_working_days_at_period_end <= 15, false)
                end
                -- published <= 2 after processed; not yet: judged at the month's end
                and case
                    when processed_at is null then true
                    when published_at is not null then coalesce(publication_working_days <= 2, false)
                    else coalesce(unpublished_working_days_at_period_end <= 2, false)
                end
        end as is_on_time
    from stepped

),

final as (

    select
        period_month,
        complaint_id,
        reported_unit_code,
        unit_code,
        unit_level,
        backcast_unit_code,
        complaint_type,
        received_at,
        transferred_at,
        rejected_at,
        first_supplement_request_at,
        processed_at,
        published_at,
        deadline_start_date,
        reject_working_days,
        first_supplement_working_days,
        processing_working_days,
        publication_working_days,
        -- 5.1 / 5.2 population: received by the month's end and not closed (published or
        -- rejected) before it began; each complaint counts once per month
        -- (written once for the month and the periods: macros/service_periods.sql)
        {{ service_complaint_period_flag('is_handled_in_period', 'period_start_at', 'period_end_at') }}
            as is_handled_in_period,
        -- 5.3 population: first received in the month
        {{ service_complaint_period_flag('is_received_in_period', 'period_start_at', 'period_end_at') }}
            as is_received_in_period,
        is_on_time,
        coalesce(complaint_type = 'regulation', false) as is_about_regulation,
        -- 5.3: more dislikes than likes on the answer
        coalesce(dislikes > likes, false) as is_disliked,
        coalesce(is_re_raised, false) as is_re_raised,
        dossier_id,
        source_id,
        source_row
    from judged

)

select * from final
