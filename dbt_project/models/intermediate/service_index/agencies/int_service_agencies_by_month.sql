-- The handling-agency registry by month: one row per month and handling agency observed in
-- the month's dossiers (int_dossiers_timed, valid rows). Rules:
--   agency_level, parent_unit_code  the level and ranked unit (as reported in the month, old
--                                   codes attributed to the unit valid then) reported with most
--                                   of the agency's dossiers in the month; ties: the smaller
--                                   unit code, then level
--                                   (parent_unit_valid_from: the start of that unit's version)
--   agency_name                     the latest non-null handling_agency_name (TenCoQuan) reported
--                                   for the code, in the month or the latest month before it
--                                   (months before the window: as this model recorded them)
--   level validity, rank_group      seed units_agency_levels: a level valid on the month's first
--                                   day (no district after 2025-06-30)
--   level_not_ranked_reason         why the agency cannot be ranked whatever its score (null:
--                                   it can): unknown_level, level_not_valid_in_month,
--                                   level_not_ranked, level_not_below_parent_level,
--                                   parent_unit_not_ranked. The marts add no_dossier_handled.
-- An agency is kept in every month it has dossiers, even when its level is no longer valid,
-- so an abolished district's late dossiers stay visible (not ranked).
with

dossiers as (

    select
        period_month,
        handling_agency_code,
        handling_agency_level,
        unit_code,
        unit_level
    from {{ ref('int_dossiers_timed') }}
    where {{ in_period_window('period_month') }}

),

names_reported as (

    -- the names reported in the window's months (the staging view is not windowed)
    select
        period_month,
        handling_agency_code,
        trim(handling_agency_name) as agency_name,
        received_at,
        dossier_id
    from {{ ref('stg_dvc_portal__dossiers') }}
    where is_valid
        and {{ in_period_window('period_month') }}
        and trim(handling_agency_name) <> ''

),

names_in_window as (

    select
        period_month,
        handling_agency_code,
        agency_name
    from (
        select
            names_reported.*,
            row_number() over (
                partition by period_month, handling_agency_code
                order by received_at desc, dossier_id desc
            ) as name_rank
        from names_reported
    ) as ranked_names
    where name_rank = 1

),

names_by_month as (

    select * from names_in_window
    {%- if is_incremental() %}
    union all
    -- before the window: each agency's latest name as this model recorded it (one row per
    -- agency, so a month's build does not re-read every earlier month's dossiers)
    select
        period_month,
        handling_agency_code,
        agency_name
    from (
        select
            period_month,
            agency_code as handling_agency_code,
            agency_name,
            row_number() over (partition by agency_code order by period_month desc) as recorded_rank
        from {{ this }}
        where period_month < {{ period_start() }}
            and agency_name is not null
    ) as recorded
    where recorded_rank = 1
    {%- endif %}

),

levels as (

    select * from {{ ref('stg_units__agency_levels') }}

),

units_by_month as (

    select * from {{ ref('int_units_valid_by_month') }}

),

attribute_counts as (

    select
        period_month,
        handling_agency_code,
        handling_agency_level,
        unit_code,
        unit_level,
        count(*) as dossier_rows
    from dossiers
    group by 1, 2, 3, 4, 5

),

attributes_ranked as (

    select
        attribute_counts.*,
        row_number() over (
            partition by period_month, handling_agency_code
            order by dossier_rows desc, unit_code asc, handling_agency_level asc
        ) as attribute_rank,
        count(*) over (partition by period_month, handling_agency_code) as attribute_variant_count
    from attribute_counts

),

agencies as (

    select
        period_month,
        handling_agency_code as agency_code,
        handling_agency_level as agency_level,
        unit_code as parent_unit_code,
        unit_level as parent_unit_level,
        attribute_variant_count
    from attributes_ranked
    where attribute_rank = 1

),

agency_names as (

    select
        agencies.period_month,
        agencies.agency_code,
        names_by_month.agency_name,
        row_number() over (
            partition by agencies.period_month, agencies.agency_code
            order by names_by_month.period_month desc
        ) as name_month_rank
    from agencies
    inner join names_by_month
        on names_by_month.handling_agency_code = agencies.agency_code
        and names_by_month.period_month <= agencies.period_month

),

final as (

    select
        agencies.period_month,
        agencies.agency_code,
        agency_names.agency_name,
        agencies.agency_level,
        levels.level_name_vi,
        levels.rank_group,
        agencies.parent_unit_code,
        parents.unit_name as parent_unit_name,
        agencies.parent_unit_level,
        parents.valid_from as parent_unit_valid_from,
        agencies.attribute_variant_count,
        coalesce(
            levels.valid_from <= agencies.period_month
            and (levels.valid_to is null or levels.valid_to >= agencies.period_month),
            false
        ) as is_level_valid_in_month,
        case
            when levels.agency_level is null then 'unknown_level'
            when not (
                levels.valid_from <= agencies.period_month
                and (levels.valid_to is null or levels.valid_to >= agencies.period_month)
            ) then 'level_not_valid_in_month'
            when not levels.is_ranked then 'level_not_ranked'
            when levels.parent_unit_level <> agencies.parent_unit_level then 'level_not_below_parent_level'
            when not coalesce(parents.is_ranked_in_service_index, false) then 'parent_unit_not_ranked'
        end as level_not_ranked_reason
    from agencies
    left join agency_names
        on agency_names.period_month = agencies.period_month
        and agency_names.agency_code = agencies.agency_code
        and agency_names.name_month_rank = 1
    left join levels
        on levels.agency_level = agencies.agency_level
    left join units_by_month as parents
        on parents.period_month = agencies.period_month
        and parents.unit_code = agencies.parent_unit_code

)

select * from final
