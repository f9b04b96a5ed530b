-- The published counts and rates to check the rates against (seed task_worked_examples). The
-- published rate is kept as written in the seed to know its precision: the number of decimals
-- published, whose last place is the report's rounding or truncation.
with

source as (

    select * from {{ ref('task_worked_examples') }}

),

final as (

    select
        example,
        as_of,
        assigned,
        completed_on_time,
        completed_late,
        completed_total,
        in_progress_within_deadline,
        overdue_not_completed,
        cast(published_rate as {{ type_double() }}) as published_rate,
        case
            when published_rate like '%.%'
                then {{ dbt.length(dbt.split_part('published_rate', "'.'", 2)) }}
            else 0
        end as published_rate_decimals,
        published_rate_denominator,
        published_rate_kind,
        source_key,
        note as example_note
    from source

)

select * from final
