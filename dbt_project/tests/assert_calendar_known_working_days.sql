-- Spot checks of the working-day calendar against known days (seed vn_public_holidays):
-- make-up Saturday 26/04/2025 is worked, 30/04-02/05/2025 are not, Quốc khánh 01-02/09/2025 are
-- not, an ordinary Monday is, a Sunday is not. Returns the days that disagree.
with

calendar as (

    select * from {{ ref('int_calendar_working_days') }}

),

expected (calendar_date, expected_is_working_day) as (

    select cast('2025-04-26' as date), true
    union all
    select cast('2025-04-30' as date), false
    union all
    select cast('2025-05-02' as date), false
    union all
    select cast('2025-09-01' as date), false
    union all
    select cast('2025-09-02' as date), false
    union all
    select cast('2025-09-08' as date), true
    union all
    select cast('2025-09-07' as date), false
    union all
    select cast('2024-05-04' as date), true

)

select expected.*, calendar.is_working_day
from expected
left join calendar
    on calendar.calendar_date = expected.calendar_date
where calendar.is_working_day is null
    or calendar.is_working_day <> expected.expected_is_working_day
