-- How old a KPI's latest value may be, per frequency (seed kpi_frequencies).
with

source as (

    select * from {{ ref('kpi_frequencies') }}

),

final as (

    select
        frequency,
        max_age_days
    from source

)

select * from final
