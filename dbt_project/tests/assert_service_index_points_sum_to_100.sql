-- 766/QĐ-TTg: 100 points. For every methodology version, the sub-indicators' points add up to
-- their group's max_points and the groups add up to 100. Returns the offending versions/groups.
with

indicators as (

    select * from {{ ref('stg_methodology__service_index_indicators') }}

),

groups as (

    select * from {{ ref('stg_methodology__service_index_groups') }}

),

indicator_points_by_group as (

    select methodology_version, group_code, sum(max_points) as indicator_points
    from indicators
    group by 1, 2

),

group_mismatches as (

    select
        groups.methodology_version,
        groups.group_code,
        groups.group_max_points as expected_points,
        coalesce(indicator_points_by_group.indicator_points, 0) as actual_points
    from groups
    left join indicator_points_by_group
        on indicator_points_by_group.methodology_version = groups.methodology_version
        and indicator_points_by_group.group_code = groups.group_code
    where abs(groups.group_max_points - coalesce(indicator_points_by_group.indicator_points, 0)) > 1e-9

),

version_mismatches as (

    select methodology_version, 'ALL' as group_code, 100 as expected_points, sum(group_max_points) as actual_points
    from groups
    group by 1
    having abs(sum(group_max_points) - 100) > 1e-9

)

select * from group_mismatches
union all
select * from version_mismatches
