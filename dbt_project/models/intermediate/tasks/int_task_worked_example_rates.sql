-- The published rates of seed task_worked_examples recomputed from their published counts with
-- the SAME macro as the marts (macros/tasks.sql::task_rates), one row per example and rate. The
-- rate compared is the one named by the published kind and denominator; it matches when it
-- differs from the published value by no more than the report's rounding or truncation: one unit
-- of the last decimal place published (0.01 points for 98.62, 0.1 for 80.3). A row whose
-- denominator is empty (no denominator reproduces the published value) is 'unmatched'.
with

examples as (

    select * from {{ ref('stg_tasks__worked_examples') }}

),

recomputed as (

    select
        examples.*,
        {{ task_rates('completed_total', 'overdue_not_completed', 'in_progress_within_deadline', 'assigned') }}
    from examples

),

compared as (

    select
        recomputed.*,
        case
            {%- for rate in task_rate_definitions() %}
            when published_rate_kind = '{{ rate.kind }}' and published_rate_denominator = '{{ rate.denominator }}'
                then {{ rate.name }}
            {%- endfor %}
        end as recomputed_rate,
        case
            {%- for rate in task_rate_definitions() %}
            when published_rate_kind = '{{ rate.kind }}' and published_rate_denominator = '{{ rate.denominator }}'
                then '{{ rate.name }}'
            {%- endfor %}
        end as recomputed_rate_name,
        power(10.0, -published_rate_decimals) as published_precision
    from recomputed

),

final as (

    select
        compared.*,
        abs(recomputed_rate - published_rate) as rate_difference,
        case
            when recomputed_rate_name is null then 'unmatched'
            -- a tiny epsilon: 98.62 against 98.6298... differs by 0.0098 (< 0.01) in doubles
            when abs(recomputed_rate - published_rate) <= published_precision + 1e-9 then 'matches'
            else 'differs'
        end as match_status
    from compared

)

select * from final
