-- One row per bucket (bucket_kind quarter | year, bucket_start_month its first month), month and
-- reported unit code: for every additive dossier and complaint measure (macros/service_measures.sql)
-- the month's DELTA of the bucket's running count, so that a period's measure is a plain sum of
-- deltas (int_service_measures_period): a quarter = the quarter bucket's deltas of its months, a
-- year to date through M = the year bucket's deltas of the months <= M, a year = all of them.
-- Each entity (dossier_id, complaint_id) counts once per period, judged on its LATEST row in it:
--   contribution = the measure's predicate on the row, with the "in period" event flags
--                  re-evaluated against the BUCKET's start (macros/service_periods.sql, the
--                  macros the month models call with the month's start), 1/0, or the processing
--                  days of a `summed` measure
--   delta        = +contribution on the row's reported unit code, and -contribution of the same
--                  entity's previous row in the bucket on THAT row's code (lag over the bucket)
-- Summed over months <= M the deltas telescope to the contribution of each entity's latest row
-- up to M, on its latest code: one pass over the rows, no per-period re-read (year to date of
-- every month without quadratic cost). Exact: counts are integers, `summed` deltas DECIMAL
-- (macros/types.sql) until int_service_measures_period makes them doubles.
-- Incremental by month (the folder's config): the window's months are rebuilt, reading the earlier
-- rows of the same year of the entities in the window (their previous rows in the buckets; a
-- previous row is usually the month before, but a month missing from an entity's extracts must
-- not break the count, so the whole year is searched). A month's deltas depend on the entities'
-- earlier rows: when a month is re-delivered, rebuild from it to the end of its year (as the later
-- months' own rows, which read its status history, need anyway).
{%- set additive = service_measure_definitions() | rejectattr('derived') | list %}
{%- set dossier_measures = additive | selectattr('entity', 'equalto', 'dossier') | list %}
{%- set complaint_measures = additive | selectattr('entity', 'equalto', 'complaint') | list %}
{%- set entity_measures = {'dossier': dossier_measures, 'complaint': complaint_measures} %}
{#- the entity's rows in its bucket, in month order (the reported code breaks a tie: a total order) #}
{%- set entity_bucket = 'partition by bucket_kind, bucket_start_month, entity_id'
                       ~ ' order by period_month, reported_unit_code' %}
{%- set read_from = 'cast(' ~ dbt.date_trunc('year', period_start()) ~ ' as date)' %}
with

dossiers as (

    -- the window's rows, and the earlier rows of the same year of the dossiers in the window
    -- (their previous rows in the buckets)
    select * from {{ ref('int_dossiers_timed') }}
    where period_month >= {{ read_from }} and period_month < {{ period_end() }}
        and (
            {{ in_period_window('period_month') }}
            or dossier_id in (
                select windowed.dossier_id from {{ ref('int_dossiers_timed') }} as windowed
                where {{ in_period_window('windowed.period_month') }}
            )
        )

),

complaints as (

    select * from {{ ref('int_complaints_timed') }}
    where period_month >= {{ read_from }} and period_month < {{ period_end() }}
        and (
            {{ in_period_window('period_month') }}
            or complaint_id in (
                select windowed.complaint_id from {{ ref('int_complaints_timed') }} as windowed
                where {{ in_period_window('windowed.period_month') }}
            )
        )

),

buckets as (

    select 'quarter' as bucket_kind
    union all
    select 'year' as bucket_kind

),

dossier_bucketed as (

    select
        buckets.bucket_kind,
        case when buckets.bucket_kind = 'quarter'
            then cast({{ dbt.date_trunc('quarter', 'dossiers.period_month') }} as date)
            else cast({{ dbt.date_trunc('year', 'dossiers.period_month') }} as date)
        end as bucket_start_month,
        dossiers.*
    from dossiers
    cross join buckets

),

dossier_rows as (

    -- the row with the event flags against its bucket's start; the state columns as the month
    -- judged them (the row's month end: for the latest row, the period's end)
    select
        bucket_kind,
        bucket_start_month,
        period_month,
        reported_unit_code,
        dossier_id as entity_id,
        {{ service_dossier_period_flags('cast(bucket_start_month as ' ~ dbt.type_timestamp() ~ ')') }},
        -- in the bucket's first month the period rule must give the month's flags
        case when bucket_start_month = period_month and (
            ({{ service_dossier_period_flag('is_received_in_period', 'period_start_at') }}) <> is_received_in_period
            or ({{ service_dossier_period_flag('is_handled_in_period', 'period_start_at') }}) <> is_handled_in_period
            or ({{ service_dossier_period_flag('is_finished_in_period', 'period_start_at') }}) <> is_finished_in_period
            or ({{ service_dossier_period_flag('processing_days', 'period_start_at') }})
            is distinct from processing_days
        ) then 1 else 0 end as month_rule_mismatch,
        is_synced_to_portal,
        is_on_time,
        is_complained_or_disliked,
        is_full_online_eligible,
        is_full_online,
        is_online_with_required_e_result,
        is_fee_dossier,
        is_paid_online,
        requires_paper_result,
        has_e_result,
        is_digitised,
        is_certification_procedure,
        is_electronic_certified_copy,
        has_reused_digitised_data,
        has_personal_store_component,
        uses_population_db
    from dossier_bucketed

),

complaint_rows as (

    select
        buckets.bucket_kind,
        case when buckets.bucket_kind = 'quarter'
            then cast({{ dbt.date_trunc('quarter', 'complaints.period_month') }} as date)
            else cast({{ dbt.date_trunc('year', 'complaints.period_month') }} as date)
        end as bucket_start_month,
        complaints.period_month,
        complaints.reported_unit_code,
        complaints.complaint_id as entity_id,
        complaints.received_at,
        complaints.published_at,
        complaints.rejected_at,
        cast(complaints.period_month as {{ dbt.type_timestamp() }}) as period_start_at,
        cast({{ dbt.dateadd('month', 1, 'complaints.period_month') }} as {{ dbt.type_timestamp() }}) as period_end_at,
        complaints.is_handled_in_period as month_is_handled_in_period,
        complaints.is_received_in_period as month_is_received_in_period,
        complaints.is_on_time,
        complaints.is_about_regulation,
        complaints.is_disliked,
        complaints.is_re_raised
    from complaints
    cross join buckets

),

complaint_rows_flagged as (

    select
        complaint_rows.*,
        {{ service_complaint_period_flags(
            'cast(complaint_rows.bucket_start_month as ' ~ dbt.type_timestamp() ~ ')', 'complaint_rows.period_end_at') }},
        -- in the bucket's first month the period rule must give the month's flags
        case when bucket_start_month = period_month and (
            {{ service_complaint_period_flag('is_handled_in_period', 'period_start_at', 'period_end_at') }}
                <> month_is_handled_in_period
            or {{ service_complaint_period_flag('is_received_in_period', 'period_start_at', 'period_end_at') }}
                <> month_is_received_in_period
        ) then 1 else 0 end as month_rule_mismatch
    from complaint_rows

),
{%- for entity, relation in [('dossier', 'dossier_rows'), ('complaint', 'complaint_rows_flagged')] %}

{{ entity }}_contributions as (

    select
        bucket_kind,
        bucket_start_month,
        period_month,
        reported_unit_code,
        entity_id,
        month_rule_mismatch,
        {%- for measure in entity_measures[entity] %}
        {%- if measure.summed %}
        cast(case when {{ measure.predicate }} then {{ measure.summed }} else 0 end as {{ type_exact() }})
        {%- elif measure.predicate == 'true' %}
        1
        {%- else %}
        case when {{ measure.predicate }} then 1 else 0 end
        {%- endif %} as {{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}

),

{{ entity }}_with_previous as (

    select
        {{ entity }}_contributions.*,
        lag(reported_unit_code) over ({{ entity_bucket }}) as previous_reported_unit_code,
        {%- for measure in entity_measures[entity] %}
        lag({{ measure.code }}) over ({{ entity_bucket }}) as previous_{{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ entity }}_contributions

),

{{ entity }}_deltas as (

    -- + this row's contribution on its code, - the previous row's on the previous row's code
    select
        bucket_kind, bucket_start_month, period_month, reported_unit_code, month_rule_mismatch,
        {%- for measure in entity_measures[entity] %}
        {{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ entity }}_with_previous
    where {{ in_period_window('period_month') }}

    union all

    select
        bucket_kind, bucket_start_month, period_month, previous_reported_unit_code as reported_unit_code,
        0 as month_rule_mismatch,
        {%- for measure in entity_measures[entity] %}
        -previous_{{ measure.code }} as {{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ entity }}_with_previous
    where {{ in_period_window('period_month') }}
        and previous_reported_unit_code is not null

),
{%- endfor %}

all_deltas as (

    select
        bucket_kind, bucket_start_month, period_month, reported_unit_code, month_rule_mismatch,
        {%- for measure in dossier_measures %}
        {{ measure.code }},
        {%- endfor %}
        {%- for measure in complaint_measures %}
        0 as {{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from dossier_deltas

    union all

    select
        bucket_kind, bucket_start_month, period_month, reported_unit_code, month_rule_mismatch,
        {%- for measure in dossier_measures %}
        {%- if measure.summed %}
        cast(0 as {{ type_exact() }}) as {{ measure.code }},
        {%- else %}
        0 as {{ measure.code }},
        {%- endif %}
        {%- endfor %}
        {%- for measure in complaint_measures %}
        {{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from complaint_deltas

),

final as (

    select
        bucket_kind,
        bucket_start_month,
        period_month,
        reported_unit_code,
        sum(month_rule_mismatch) as month_rule_mismatches,
        {%- for measure in dossier_measures + complaint_measures %}
        {{ service_measure_rollup(measure, measure.code) }} as {{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from all_deltas
    group by 1, 2, 3, 4

)

select * from final
