-- One row per task and month from the month its document assigns it (document_date on or
-- before the month's evaluation date): the lead unit that month, the registry's lead unit
-- through int_unit_codes_attributed (a task assigned to province 02, Hà Giang, is led by 08,
-- Tuyên Quang, from 2025-07: the province merger), with a note saying so when it moved.
with

registry as (

    select * from {{ ref('int_task_registry') }}

),

months as (

    select * from {{ ref('int_task_months') }}

),

attributed as (

    select * from {{ ref('int_unit_codes_attributed') }}

),

units as (

    select * from {{ ref('int_units_unioned') }}

),

province_merger as (

    select * from {{ ref('stg_units__province_merger_2025') }}

),

ministry_restructure as (

    select * from {{ ref('stg_units__ministry_restructure_2025') }}

),

crosswalks as (

    -- what a crosswalk is called in the note, and the day it took effect
    select
        'province_merger_2025' as attribution,
        'province merger' as crosswalk_label,
        min(effective_date) as effective_date
    from province_merger

    union all

    select
        'ministry_restructure_2025' as attribution,
        'ministry restructure' as crosswalk_label,
        min(effective_date) as effective_date
    from ministry_restructure

),

assigned as (

    select
        registry.task_code,
        registry.document_date,
        registry.assigned_lead_unit_code,
        months.period_month,
        months.period,
        months.evaluation_date,
        months.as_of_date
    from registry
    inner join months
        on registry.document_date <= months.evaluation_date

),

assigned_unit_names as (

    -- the name of the assigned unit on the document date (else its earliest version)
    select
        assigned.task_code,
        assigned.period_month,
        units.unit_name,
        row_number() over (
            partition by assigned.task_code, assigned.period_month
            order by
                case when units.valid_from <= assigned.document_date then 0 else 1 end,
                case when units.valid_from <= assigned.document_date then units.valid_from end desc,
                units.valid_from
        ) as name_rank
    from assigned
    inner join units
        on units.unit_code = assigned.assigned_lead_unit_code

),

final as (

    select
        assigned.task_code,
        assigned.period_month,
        assigned.period,
        assigned.evaluation_date,
        assigned.as_of_date,
        assigned.assigned_lead_unit_code,
        assigned_unit_names.unit_name as assigned_lead_unit_name,
        coalesce(attributed.unit_code, assigned.assigned_lead_unit_code) as lead_unit_code,
        coalesce(lead_units.unit_name, assigned_unit_names.unit_name) as lead_unit_name,
        coalesce(attributed.attribution, 'unattributed') as lead_unit_attribution,
        case
            when attributed.attribution is not null and attributed.attribution <> 'self'
                then {{ dbt.concat([
                    "'moved from '", "assigned.assigned_lead_unit_code", "' '",
                    "coalesce(assigned_unit_names.unit_name, '')", "' to '", "attributed.unit_code", "' '",
                    "coalesce(lead_units.unit_name, '')", "' by the '",
                    "coalesce(crosswalks.crosswalk_label, attributed.attribution)",
                    "coalesce(" ~ dbt.concat(["' of '", task_long_date('crosswalks.effective_date')]) ~ ", '')"
                ]) }}
        end as lead_unit_note
    from assigned
    left join attributed
        on attributed.reported_unit_code = assigned.assigned_lead_unit_code
        and attributed.period_month = assigned.period_month
    left join units as lead_units
        on lead_units.unit_key = attributed.unit_key
    left join assigned_unit_names
        on assigned_unit_names.task_code = assigned.task_code
        and assigned_unit_names.period_month = assigned.period_month
        and assigned_unit_names.name_rank = 1
    left join crosswalks
        on crosswalks.attribution = attributed.attribution

)

select * from final
