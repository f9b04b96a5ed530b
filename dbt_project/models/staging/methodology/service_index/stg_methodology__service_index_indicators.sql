-- Sub-indicators of every service-index methodology version. One seed per legal decision: add
-- the next version's seed to the union below.
with

indicators_766_2022 as (

    select * from {{ ref('service_index_indicators_766_2022') }}

),

unioned as (

    select * from indicators_766_2022

),

final as (

    select
        methodology_version,
        group_code,
        indicator_code,
        indicator_order,
        name_vi as indicator_name_vi,
        name_en as indicator_name_en,
        max_points,
        rule as scoring_rule,
        target_ratio,
        numerator_measure,
        denominator_measure,
        zero_denominator_policy,
        applies_to,
        legal_note
    from unioned

)

select * from final
