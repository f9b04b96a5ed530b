-- The national scorecard: every national KPI series (level national) with its targets, latest
-- value, trend and status (rpt_kpi_progress), one row per KPI, measure, series and target.
--   target_order     1 = the nearest target year at or after the as-of year, then the later ones,
--                    then the past ones (most recent first)
--   normalised_gap   gap_to_target / |target| (0 = on the target, 0.5 = half the target to go)
--   off_track_rank   1 = furthest off track among the nearest targets (target_order 1) with a
--                    status: by off_track_severity (kpi_status_classes), then normalised_gap
with

progress as (

    select * from {{ ref('rpt_kpi_progress') }}
    where level = 'national'

),

ordered as (

    select
        progress.*,
        case when target_value <> 0 then gap_to_target / abs(target_value) end as normalised_gap,
        case
            when target_id is null then 1
            else row_number() over (
                partition by kpi_code, measure, series, target_id is null
                order by
                    case when target_year >= extract(year from as_of_date) then 0 else 1 end asc,
                    case when target_year >= extract(year from as_of_date) then target_year else -target_year end asc,
                    source_date desc nulls last,
                    target_id asc
            )
        end as target_order
    from progress

),

final as (

    select
        ordered.*,
        case
            when target_order = 1 and off_track_severity is not null
                then row_number() over (
                    partition by target_order = 1 and off_track_severity is not null
                    order by
                        off_track_severity desc, normalised_gap desc nulls last,
                        kpi_code asc, measure asc, series asc
                )
        end as off_track_rank
    from ordered

)

select * from final
