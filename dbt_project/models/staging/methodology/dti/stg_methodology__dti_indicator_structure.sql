-- Node counts the legal decision states for a (methodology version, level) whose catalogue
-- lacks the nodes themselves (seed dti_indicator_structure); rename only.
with

source as (

    select * from {{ ref('dti_indicator_structure') }}

),

final as (

    select
        methodology_version,
        level,
        parent_code,
        child_node_type,
        expected_children,
        note
    from source

)

select * from final
