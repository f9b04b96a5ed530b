-- One row per node count the legal decision states (seed dti_indicator_structure): how many of
-- those nodes the catalogue holds. missing_children > 0 means the indicator list of that
-- (methodology version, level) is not (fully) in the catalogue: the national level, whose
-- indicators and points are not public (docs/methodology_dti.md). Scoring a report of such a
-- (version, level) refuses (pre-hook of int_dti_scores, macros/dti.sql dti_refuse_unset_points).
with

structure as (

    select * from {{ ref('stg_methodology__dti_indicator_structure') }}

),

catalogue as (

    select * from {{ ref('stg_methodology__dti_indicators') }}

),

catalogue_children as (

    select
        methodology_version,
        level,
        parent_code,
        node_type,
        count(*) as catalogue_children
    from catalogue
    group by 1, 2, 3, 4

),

final as (

    select
        structure.methodology_version,
        structure.level,
        structure.parent_code,
        parent.node_type as parent_node_type,
        parent.indicator_name_vi as parent_name_vi,
        parent.max_points as parent_max_points,
        structure.child_node_type,
        structure.expected_children,
        coalesce(catalogue_children.catalogue_children, 0) as catalogue_children,
        greatest(structure.expected_children - coalesce(catalogue_children.catalogue_children, 0), 0)
            as missing_children,
        parent.display_order as parent_display_order
    from structure
    left join catalogue as parent
        on parent.methodology_version = structure.methodology_version
        and parent.level = structure.level
        and parent.indicator_code = structure.parent_code
    left join catalogue_children
        on catalogue_children.methodology_version = structure.methodology_version
        and catalogue_children.level = structure.level
        and catalogue_children.node_type = structure.child_node_type
        -- parent_code NULL on both sides: the level's top-level nodes
        and coalesce(catalogue_children.parent_code, '') = coalesce(structure.parent_code, '')

)

select * from final
