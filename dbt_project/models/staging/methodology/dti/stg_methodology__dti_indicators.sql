-- The DTI indicator catalogue (seed): one row per node of every methodology version and level.
-- Rename only, plus main_code: the top-level node a row belongs to (a main indicator, or a
-- pillar under 1726_2020), whose value x points enter the total.
with

source as (

    select * from {{ ref('dti_indicators') }}

),

final as (

    select
        methodology_version,
        level,
        indicator_code,
        parent_code,
        node_type,
        name_vi as indicator_name_vi,
        name_en as indicator_name_en,
        max_points,
        rule as scoring_rule,
        ratio_target,
        checklist_items,
        value_unit,
        value_min,
        value_max,
        source_kind,
        automatic_measure,
        evidence_required as is_evidence_required,
        is_representative,
        display_order,
        parent_code is null as is_top_level,
        coalesce(parent_code, indicator_code) as main_code
    from source

)

select * from final
