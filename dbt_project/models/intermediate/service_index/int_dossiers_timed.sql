-- One row per dossier of a month's extract (received in the month, or carried over still open),
-- judged as of the month's end: the ranked unit of the month and the back-cast unit, the end
-- time and on-time verdict of 766/QĐ-TTg indicator 2.1, and the dossier flags the other
-- dossier-based indicators count.
with

dossiers as (

    select * from {{ ref('stg_dvc_portal__dossiers') }}
    where is_valid and {{ in_period_window('period_month') }}

),

status_history as (

    -- statuses of every extract up to the window's end: a carried-over dossier's earlier
    -- statuses may sit in an earlier month's extract
    select * from {{ ref('stg_dvc_portal__dossier_status_history') }}
    where is_valid and period_month < {{ period_end() }}

),

procedures as (

    select * from {{ ref('int_procedures_assessed') }}
    where {{ in_period_window('period_month') }}

),

unit_attribution as (

    select * from {{ ref('int_unit_codes_attributed') }}

),

calendar as (

    select * from {{ ref('int_calendar_working_days') }}

),

dossiers_attributed as (

    select
        dossiers.*,
        unit_attribution.unit_code,
        unit_attribution.unit_level,
        unit_attribution.backcast_unit_code,
        cast(dossiers.period_month as {{ dbt.type_timestamp() }}) as period_start_at,
        cast({{ dbt.dateadd('month', 1, 'dossiers.period_month') }} as {{ dbt.type_timestamp() }})
            as period_end_at,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'dossiers.period_month')) }} as date)
            as period_last_date
    from dossiers
    -- codes unknown in the month are rejected upstream by validation
    inner join unit_attribution
        on unit_attribution.reported_unit_code = dossiers.reported_unit_code
        and unit_attribution.period_month = dossiers.period_month

),

dossier_keys as (

    -- narrow on purpose: the join with every status row (about two per dossier) only needs these
    select
        period_month,
        dossier_id,
        cast({{ dbt.dateadd('month', 1, 'period_month') }} as {{ dbt.type_timestamp() }}) as period_end_at
    -- (from the staging view again rather than the dossiers CTE: one reference keeps that CTE
    -- inlined instead of materialized with every column)
    from {{ ref('stg_dvc_portal__dossiers') }}
    where is_valid and {{ in_period_window('period_month') }}

),

statuses as (

    -- what was known at the month's end (statuses after it belong to later months); a status
    -- repeated across extracts is harmless below (min() for the end, distinct for supplements)
    select
        dossier_keys.period_month,
        dossier_keys.dossier_id,
        status_history.status_code,
        status_history.status_at
    from dossier_keys
    inner join status_history
        on status_history.dossier_id = dossier_keys.dossier_id
        and status_history.period_month <= dossier_keys.period_month
        and status_history.status_at < dossier_keys.period_end_at

),

terminal_times as (

    -- 766/QĐ-TTg 2.1: the end is the first terminal status by priority
    -- processed > result returned > stopped / refused / withdrawn (one aggregate, no window)
    select
        period_month,
        dossier_id,
        min(case when status_code = 'processed' then status_at end) as processed_at,
        min(case when status_code = 'result_returned' then status_at end) as returned_at,
        min(case when status_code in ('stopped', 'refused', 'withdrawn') then status_at end) as closed_at
    from statuses
    where status_code in ('processed', 'result_returned', 'stopped', 'refused', 'withdrawn')
    group by 1, 2

),

closed_codes as (

    -- which of stop / refusal / withdrawal ended a dossier that was neither processed nor
    -- returned (at the same instant, the first code alphabetically: deterministic)
    select
        statuses.period_month,
        statuses.dossier_id,
        min(statuses.status_code) as closed_status_code
    from terminal_times
    inner join statuses
        on statuses.period_month = terminal_times.period_month
        and statuses.dossier_id = terminal_times.dossier_id
        and statuses.status_at = terminal_times.closed_at
        and statuses.status_code in ('stopped', 'refused', 'withdrawn')
    where terminal_times.processed_at is null and terminal_times.returned_at is null
    group by 1, 2

),

terminal as (

    select
        terminal_times.period_month,
        terminal_times.dossier_id,
        case
            when terminal_times.processed_at is not null then 'processed'
            when terminal_times.returned_at is not null then 'result_returned'
            else closed_codes.closed_status_code
        end as terminal_status_code,
        coalesce(terminal_times.processed_at, terminal_times.returned_at, terminal_times.closed_at) as terminal_at
    from terminal_times
    left join closed_codes
        on closed_codes.period_month = terminal_times.period_month
        and closed_codes.dossier_id = terminal_times.dossier_id

),

supplement_requests as (

    select distinct period_month, dossier_id, status_at as requested_at
    from statuses
    where status_code = 'supplement_requested'

),

supplement_completions as (

    select distinct period_month, dossier_id, status_at as completed_at
    from statuses
    where status_code = 'supplement_completed'

),

supplement_pairs as (

    -- each request is answered by the first completion at or after it
    select
        supplement_requests.period_month,
        supplement_requests.dossier_id,
        supplement_requests.requested_at,
        min(supplement_completions.completed_at) as completed_at
    from supplement_requests
    left join supplement_completions
        on supplement_completions.period_month = supplement_requests.period_month
        and supplement_completions.dossier_id = supplement_requests.dossier_id
        and supplement_completions.completed_at >= supplement_requests.requested_at
    group by 1, 2, 3

),

supplement_pairs_timed as (

    select
        supplement_pairs.*,
        {{ dbt.datediff('supplement_pairs.requested_at', 'supplement_pairs.completed_at', 'second') }}
            as supplement_seconds,
        {{ working_days_between('requested_day', 'completed_day') }} as supplement_working_days
    from supplement_pairs
    {{ join_calendar('requested_day', 'cast(supplement_pairs.requested_at as date)') }}
    {{ join_calendar('completed_day', 'cast(supplement_pairs.completed_at as date)') }}

),

supplements as (

    select
        period_month,
        dossier_id,
        count(*) as supplement_request_count,
        sum(coalesce(supplement_seconds, 0)) as supplement_seconds,
        sum(coalesce(supplement_working_days, 0)) as supplement_working_days,
        min(case when completed_at is null then requested_at end) as open_supplement_requested_at
    from supplement_pairs_timed
    group by 1, 2

),

procedure_facts as (

    select
        period_month,
        unit_code,
        procedure_code,
        is_full_online_eligible,
        requires_paper_result,
        has_fee,
        serves_citizens,
        is_certification_procedure
    from procedures

),

timeline as (

    select
        dossiers_attributed.*,
        terminal.terminal_status_code,
        terminal.terminal_at,
        coalesce(supplements.supplement_request_count, 0) as supplement_request_count,
        coalesce(supplements.supplement_seconds, 0) as supplement_seconds,
        coalesce(supplements.supplement_working_days, 0) as supplement_working_days,
        supplements.open_supplement_requested_at,
        -- 766/QĐ-TTg 2.1: a dossier not finished is judged at an open supplement request (the
        -- applicant has the ball) or else at the period's end
        case
            when terminal.terminal_at is not null then 'terminal_status'
            when supplements.open_supplement_requested_at is not null then 'open_supplement_request'
            else 'period_end'
        end as end_basis,
        coalesce(
            terminal.terminal_at, supplements.open_supplement_requested_at, dossiers_attributed.period_end_at
        ) as end_at,
        procedure_facts.procedure_code is not null as has_catalogue_entry,
        coalesce(procedure_facts.is_full_online_eligible, false) as is_full_online_eligible,
        coalesce(procedure_facts.requires_paper_result, false) as requires_paper_result,
        coalesce(procedure_facts.has_fee, false) as procedure_has_fee,
        coalesce(procedure_facts.serves_citizens, false) as procedure_serves_citizens,
        coalesce(procedure_facts.is_certification_procedure, false) as is_certification_procedure
    from dossiers_attributed
    left join terminal
        on terminal.period_month = dossiers_attributed.period_month
        and terminal.dossier_id = dossiers_attributed.dossier_id
    left join supplements
        on supplements.period_month = dossiers_attributed.period_month
        and supplements.dossier_id = dossiers_attributed.dossier_id
    left join procedure_facts
        on procedure_facts.period_month = dossiers_attributed.period_month
        and procedure_facts.unit_code = dossiers_attributed.unit_code
        and procedure_facts.procedure_code = dossiers_attributed.procedure_code

),

timeline_dated as (

    select
        timeline.*,
        case when end_basis = 'period_end' then period_last_date else cast(end_at as date) end as end_date,
        -- 766/QĐ-TTg 2.1: time waiting for the applicant's supplement is not the agency's time
        {{ dbt.dateadd('second', '-1 * supplement_seconds', 'end_at') }} as effective_end_at
    from timeline

),

judged as (

    select
        timeline_dated.*,
        {{ working_days_between('received_day', 'end_day') }} - timeline_dated.supplement_working_days
            as elapsed_working_days,
        case
            when timeline_dated.due_at is not null then 'due_at'
            when timeline_dated.statutory_duration is not null
                and timeline_dated.statutory_duration_unit in ('hour', 'day', 'working_day', 'month')
                then {{ dbt.concat(["'statutory_'", "timeline_dated.statutory_duration_unit"]) }}
            else 'none'
        end as deadline_basis
    from timeline_dated
    {{ join_calendar('received_day', 'cast(timeline_dated.received_at as date)') }}
    {{ join_calendar('end_day', 'timeline_dated.end_date') }}

),

final as (

    select
        period_month,
        dossier_id,
        reported_unit_code,
        unit_code,
        unit_level,
        backcast_unit_code,
        procedure_code,
        handling_agency_code,
        handling_agency_level,
        received_at,
        due_at,
        statutory_duration,
        statutory_duration_unit,
        channel,
        period_start_at,
        period_end_at,
        terminal_status_code,
        terminal_at,
        end_basis,
        end_at,
        end_date,
        supplement_request_count,
        supplement_seconds,
        supplement_working_days,
        open_supplement_requested_at,
        effective_end_at,
        elapsed_working_days,
        deadline_basis,

        -- population of 766/QĐ-TTg 2.1 (and of 5.4): received in the month, or received earlier
        -- and still being handled in it (not closed before the month began)
        -- (the "in period" flags are written once, for the month and the quarter, year and year
        -- to date alike: macros/service_periods.sql)
        {{ service_dossier_period_flag('is_received_in_period', 'period_start_at') }} as is_received_in_period,
        {{ service_dossier_period_flag('is_handled_in_period', 'period_start_at') }} as is_handled_in_period,
        coalesce(terminal_status_code in ('processed', 'result_returned'), false) as is_finished,
        {{ service_dossier_period_flag('is_finished_in_period', 'period_start_at') }} as is_finished_in_period,

        -- 766/QĐ-TTg 2.1 on time: more than one supplement request = overdue; otherwise
        -- (end - supplement time) <= due date, or without a due date <= the statutory time
        -- (hours, days, working days by the calendar, months). No deadline at all: not on time.
        case
            when supplement_request_count > 1 then false
            when due_at is not null then effective_end_at <= due_at
            when deadline_basis = 'statutory_hour' then
                effective_end_at <= {{ dbt.dateadd('second', 'statutory_duration * 3600', 'received_at') }}
            when deadline_basis = 'statutory_day' then
                effective_end_at <= {{ dbt.dateadd('second', 'statutory_duration * 86400', 'received_at') }}
            when deadline_basis = 'statutory_month' then
                effective_end_at <= {{ dbt.dateadd('month', 'statutory_duration', 'received_at') }}
            when deadline_basis = 'statutory_working_day' then
                coalesce(elapsed_working_days <= statutory_duration, false)
            else false
        end as is_on_time,

        -- 766/QĐ-TTg 2.2 (monitoring): processing time of dossiers finished in the month, days
        {{ service_dossier_period_flag('processing_days', 'period_start_at') }} as processing_days,

        -- catalogue facts of the dossier's procedure (false when not in the month's catalogue)
        has_catalogue_entry,
        is_full_online_eligible,
        requires_paper_result,
        procedure_has_fee,
        procedure_serves_citizens,
        is_certification_procedure,

        -- channel: 1 in person (or empty), 2 online, 3 post
        coalesce(channel = 2, false) as is_online_submission,
        -- 766 group 4 (CLGQ): full-process online = submitted online to a procedure eligible for it
        coalesce(channel = 2, false) and is_full_online_eligible as is_full_online,
        (result_code is not null and result_file_url is not null) as has_e_result,
        -- 3.3: online, and with an e-result when the procedure requires a paper result (judged
        -- only once the dossier is finished)
        coalesce(channel = 2, false) and (
            not (requires_paper_result and coalesce(terminal_status_code in ('processed', 'result_returned'), false))
            or (result_code is not null and result_file_url is not null)
        ) as is_online_with_required_e_result,
        -- 4.2: a digitised component, and an e-result where a paper result is required (once finished)
        coalesce(has_digitised_component, false) and (
            not (requires_paper_result and coalesce(terminal_status_code in ('processed', 'result_returned'), false))
            or (result_code is not null and result_file_url is not null)
        ) as is_digitised,
        coalesce(has_reused_digitised_data, false) as has_reused_digitised_data,
        coalesce(has_personal_store_component, false) as has_personal_store_component,
        -- 4.5b: VNeID-authenticated, a population-database record, or data from the personal store
        (
            coalesce(is_vneid_authenticated, false)
            or population_db_code is not null
            or coalesce(has_personal_store_component, false)
        ) as uses_population_db,
        coalesce(is_electronic_certified_copy, false) as is_electronic_certified_copy,
        fee_amount,
        -- 3.5a: fee data synced (a non-zero fee)
        coalesce(fee_amount <> 0, false) as has_fee_data,
        -- 3.6 denominator: dossiers of fee-bearing procedures, minus those whose fee list is all 0
        procedure_has_fee and (fee_amount is null or fee_amount <> 0) as is_fee_dossier,
        coalesce(online_payment_method in (1, 2), false) as is_paid_online,
        coalesce(is_synced_to_portal, false) as is_synced_to_portal,
        -- 5.4: the dossier drew a complaint or a dislike
        (coalesce(has_complaint, false) or coalesce(rating = 'dislike', false)) as is_complained_or_disliked,
        source_id,
        source_row
    from judged

)

select * from final
