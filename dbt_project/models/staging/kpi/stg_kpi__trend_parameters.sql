-- The trend assessment's parameters (seed kpi_trend_parameters), one row each.
with

source as (

    select * from {{ ref('kpi_trend_parameters') }}

),

final as (

    select
        parameter,
        value as parameter_value
    from source

)

select * from final
