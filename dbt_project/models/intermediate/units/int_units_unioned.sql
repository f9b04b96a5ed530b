-- One row per version of a ranked unit (a code can name two units over time: "15" is Yên Bái
-- until 2025-06-30 and the new Lào Cai from 2025-07-01). Sources: the 63 provinces, the 34 new
-- provinces of Resolution 202/2025/QH15 (names from the merger crosswalk) and the ministries
-- with their validity dates.
with

provinces_63 as (

    select * from {{ ref('stg_units__provinces_63') }}

),

province_merger as (

    select * from {{ ref('stg_units__province_merger_2025') }}

),

ministries as (

    select * from {{ ref('stg_units__ministries') }}

),

old_provinces as (

    -- The 63 provinces exist since 2008; the registry starts with the platform in 2020. Each ends
    -- the day before the merger takes effect.
    select
        provinces_63.province_code as unit_code,
        provinces_63.province_name_vi as unit_name,
        'province' as unit_level,
        provinces_63.unit_type,
        cast(null as {{ dbt.type_string() }}) as dti_group,
        provinces_63.region_vi,
        provinces_63.region_en,
        cast('2020-01-01' as date) as valid_from,
        cast({{ dbt.dateadd('day', -1, 'province_merger.effective_date') }} as date) as valid_to
    from provinces_63
    left join province_merger
        on province_merger.old_province_code = provinces_63.province_code

),

new_provinces as (

    select distinct
        new_province_code as unit_code,
        new_province_name_vi as unit_name,
        effective_date
    from province_merger

),

new_provinces_described as (

    -- A new province keeps the code of the old province holding its capital: take that one's
    -- region (regions were not redrawn in the registry).
    select
        new_provinces.unit_code,
        new_provinces.unit_name,
        'province' as unit_level,
        case
            when new_provinces.unit_name like 'Thành phố%' then 'municipality'
            else 'province'
        end as unit_type,
        cast(null as {{ dbt.type_string() }}) as dti_group,
        provinces_63.region_vi,
        provinces_63.region_en,
        new_provinces.effective_date as valid_from,
        cast(null as date) as valid_to
    from new_provinces
    left join provinces_63
        on provinces_63.province_code = new_provinces.unit_code

),

ministry_units as (

    select
        ministry_code as unit_code,
        ministry_name_vi as unit_name,
        'ministry' as unit_level,
        agency_type as unit_type,
        dti_group,
        cast(null as {{ dbt.type_string() }}) as region_vi,
        cast(null as {{ dbt.type_string() }}) as region_en,
        valid_from,
        valid_to
    from ministries

),

unioned as (

    select * from old_provinces
    union all
    select * from new_provinces_described
    union all
    select * from ministry_units

),

final as (

    select
        {{ dbt.concat([
            "unit_level", "'-'", "unit_code", "'-'", "cast(valid_from as " ~ dbt.type_string() ~ ")"
        ]) }} as unit_key,
        unit_code,
        unit_name,
        unit_level,
        unit_type,
        dti_group,
        region_vi,
        region_en,
        valid_from,
        valid_to,
        -- 766/QĐ-TTg ranks every province and the ministries that provide public services
        -- (dti_group 'dvc'); the others are in the registry but not ranked.
        (unit_level = 'province' or dti_group = 'dvc') as is_ranked_in_service_index,
        valid_to is null as is_current
    from unioned

)

select * from final
