-- How an `automatic` DTI sub-indicator is measured from the service index (seed); rename only.
with

source as (

    select * from {{ ref('dti_automatic_measures') }}

),

final as (

    select
        automatic_measure,
        source_model,
        service_index_indicator_code,
        numerator_description,
        denominator_description,
        is_year_to_date_sum,
        note
    from source

)

select * from final
