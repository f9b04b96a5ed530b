{#- The 766 service index over periods (quarter, year, year to date; docs/service_index_periods.md).

    A period's measure counts each entity once (dossier_id; unit and procedure_code; complaint_id):
    the measure's predicate (macros/service_measures.sql) on the entity's LATEST row in the period
    (its state at the period's end), with the "in period" event flags re-evaluated against the
    PERIOD's start instead of the month's. These macros are those flags, written once: the month
    models call them with the month's start (int_dossiers_timed, int_complaints_timed,
    int_procedures_assessed, final CTE), the period models with the period's (a data test on
    int_service_measure_deltas_monthly checks that both agree in a bucket's first month). -#}

{#- Dossier event flags against `period_start_at` (a timestamp column) on a row of
    int_dossiers_timed (the row's own month end is its period_end_at): received in
    [period start, month end), handled = received before the month end and not closed before the
    period start, finished in the period, processing days only when finished in the period. -#}
{% macro service_dossier_period_flag(flag, period_start_at) -%}
    {%- if flag == 'is_received_in_period' -%}
        (received_at >= {{ period_start_at }} and received_at < period_end_at)
    {%- elif flag == 'is_handled_in_period' -%}
        (received_at < period_end_at and (terminal_at is null or terminal_at >= {{ period_start_at }}))
    {%- elif flag == 'is_finished_in_period' -%}
        coalesce(terminal_status_code in ('processed', 'result_returned') and terminal_at >= {{ period_start_at }}, false)
    {%- elif flag == 'processing_days' -%}
        case
            when terminal_status_code in ('processed', 'result_returned') and terminal_at >= {{ period_start_at }}
                then ({{ dbt.datediff('received_at', 'terminal_at', 'second') }} - supplement_seconds)
                    / cast(86400 as {{ type_double() }})
        end
    {%- else -%}
        {{ exceptions.raise_compiler_error('service_dossier_period_flag: unknown flag ' ~ flag) }}
    {%- endif -%}
{%- endmacro %}

{% macro service_dossier_period_flags(period_start_at) -%}
    {%- for flag in ['is_received_in_period', 'is_handled_in_period', 'is_finished_in_period', 'processing_days'] %}
        {{ service_dossier_period_flag(flag, period_start_at) }} as {{ flag }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Complaint event flags against `period_start_at` on a row of int_complaints_timed
    (period_end_at: the row's month end; closed = answer published or rejected, as of it). -#}
{% macro service_complaint_period_flag(flag, period_start_at, period_end_at) -%}
    {%- if flag == 'is_handled_in_period' -%}
        (
            received_at < {{ period_end_at }}
            and (coalesce(published_at, rejected_at) is null or coalesce(published_at, rejected_at) >= {{ period_start_at }})
        )
    {%- elif flag == 'is_received_in_period' -%}
        (received_at >= {{ period_start_at }} and received_at < {{ period_end_at }})
    {%- else -%}
        {{ exceptions.raise_compiler_error('service_complaint_period_flag: unknown flag ' ~ flag) }}
    {%- endif -%}
{%- endmacro %}

{% macro service_complaint_period_flags(period_start_at, period_end_at) -%}
    {%- for flag in ['is_handled_in_period', 'is_received_in_period'] %}
        {{ service_complaint_period_flag(flag, period_start_at, period_end_at) }} as {{ flag }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Procedure event flags against `period_start` (a date column) on a row of
    int_procedures_assessed judged at `period_last_date` (the row's month's last day). -#}
{% macro service_procedure_period_flag(flag, period_start, period_last_date) -%}
    {%- if flag == 'is_announced_in_period' -%}
        coalesce(announced_on >= {{ period_start }} and announced_on <= {{ period_last_date }}, false)
    {%- elif flag == 'is_published_in_period' -%}
        coalesce(published_on >= {{ period_start }} and published_on <= {{ period_last_date }}, false)
    {%- elif flag == 'is_publication_overdue_in_period' -%}
        coalesce(
            (published_on is null or published_on > {{ period_last_date }})
            and publication_deadline_on >= {{ period_start }}
            and publication_deadline_on <= {{ period_last_date }},
            false
        )
    {%- elif flag == 'is_published_on_time' -%}
        coalesce(
            published_on >= {{ period_start }} and published_on <= {{ period_last_date }}
            and publication_working_days <= publication_allowed_working_days,
            false
        )
    {%- elif flag == 'is_published' -%}
        coalesce(published_on <= {{ period_last_date }}, false)
    {%- else -%}
        {{ exceptions.raise_compiler_error('service_procedure_period_flag: unknown flag ' ~ flag) }}
    {%- endif -%}
{%- endmacro %}

{% macro service_procedure_period_flags(period_start, period_last_date) -%}
    {%- for flag in ['is_announced_in_period', 'is_published_in_period', 'is_publication_overdue_in_period',
                     'is_published_on_time', 'is_published'] %}
        {{ service_procedure_period_flag(flag, period_start, period_last_date) }} as {{ flag }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The periods of one invocation: those overlapping the window [period_start(), period_end()). -#}
{% macro overlaps_period_window(start_column='period_start_month', end_column='period_end_month') -%}
    ({{ start_column }} < {{ period_end() }}
    and {{ end_column }} >= {{ period_start() }})
{%- endmacro %}

{#- Pre-hook of the period-keyed incremental models: delete the periods overlapping the window
    (delete+insert alone only replaces periods that still produce rows). -#}
{% macro delete_overlapping_periods() -%}
    {%- set existing = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
    {%- if existing is not none and not should_full_refresh() -%}
        delete from {{ this }} where {{ overlaps_period_window() }}
    {%- else -%}
        select 1 as nothing_to_delete
    {%- endif -%}
{%- endmacro %}

{#- The publication rule of a period, from its months (the one definition; docs/service_index_periods.md):
      any withheld month          -> 'withheld' (its sums would silently lack, or silently
                                     include, data that failed its blocking checks)
      else any overridden month   -> 'override' (override_ids lists the overrides)
      else                        -> 'checks_passed'
    Missing months (never validated) do not withhold: the period is published with
    is_complete false and months_missing stated. Arguments: the period's counts. -#}
{% macro service_period_publication_basis(withheld_month_count, overridden_month_count) -%}
    case
        when {{ withheld_month_count }} > 0 then 'withheld'
        when {{ overridden_month_count }} > 0 then 'override'
        else 'checks_passed'
    end
{%- endmacro %}

{#- The text key of a period from its kind and last month: '2025-Q3', '2025', '2025-08-YTD'. -#}
{% macro service_period_key(kind, end_month) -%}
    case
        when {{ kind }} = 'quarter' then {{ dbt.concat([
            dbt.cast('extract(year from ' ~ end_month ~ ')', dbt.type_string()), "'-Q'",
            dbt.cast('extract(quarter from ' ~ end_month ~ ')', dbt.type_string())]) }}
        when {{ kind }} = 'year' then {{ dbt.cast('extract(year from ' ~ end_month ~ ')', dbt.type_string()) }}
        else {{ dbt.concat([kpi_month_key(end_month), "'-YTD'"]) }}
    end
{%- endmacro %}

{#- The last month of the previous period of the same kind (previous quarter, previous year, year
    to date through the previous month of the same year: none for January). -#}
{% macro service_previous_period_end(kind, end_month) -%}
    case
        when {{ kind }} = 'quarter' then cast({{ dbt.dateadd('month', -3, end_month) }} as date)
        when {{ kind }} = 'year' then cast({{ dbt.dateadd('month', -12, end_month) }} as date)
        when extract(month from {{ end_month }}) > 1 then cast({{ dbt.dateadd('month', -1, end_month) }} as date)
    end
{%- endmacro %}
