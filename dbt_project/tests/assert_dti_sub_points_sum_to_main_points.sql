-- DTI catalogue: where a main indicator (pillar) has points > 0 in the catalogue, its
-- sub-indicators' points add up to them (province 922_2022: 100 / 200 / 150; 1726_2020 pillars
-- 400 / 300 / 300), and every top-level node has at least one sub-indicator (its value is
-- earned / max of its subs), unless seed dti_indicator_structure states that its children are
-- not in the catalogue (the national pillars: scoring them refuses). Returns the offending nodes.
with

indicators as (

    select * from {{ ref('stg_methodology__dti_indicators') }}

),

stated_missing as (

    select methodology_version, level, parent_code
    from {{ ref('int_dti_indicator_structure_checked') }}
    where missing_children > 0 and child_node_type = 'sub'

),

sub_points as (

    select methodology_version, level, parent_code, sum(max_points) as sub_points, count(*) as sub_count
    from indicators
    where node_type = 'sub'
    group by 1, 2, 3

),

final as (

    select
        mains.methodology_version,
        mains.level,
        mains.indicator_code,
        mains.max_points,
        sub_points.sub_points
    from indicators as mains
    left join sub_points
        on sub_points.methodology_version = mains.methodology_version
        and sub_points.level = mains.level
        and sub_points.parent_code = mains.indicator_code
    left join stated_missing
        on stated_missing.methodology_version = mains.methodology_version
        and stated_missing.level = mains.level
        and stated_missing.parent_code = mains.indicator_code
    where mains.is_top_level
        and ((sub_points.sub_count is null and stated_missing.parent_code is null)
            or (mains.max_points > 0 and abs(mains.max_points - sub_points.sub_points) > 1e-9))

)

select * from final
