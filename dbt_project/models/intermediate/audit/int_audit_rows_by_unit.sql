-- Rows loaded and rejected per month, extract, reporting unit (the code as reported), source and
-- rejection rule, over every raw extract, valid or not (the staging views keep every row; the
-- service index reads the valid ones). The unit column of each extract is its contract's unit
-- field (ingestion/core/extract_contract.py), reported_unit_code in staging.
{%- set extracts = ['dossiers', 'dossier_status_history', 'procedures', 'complaints'] %}
with

{% for extract in extracts %}
{{ extract }}_rows as (

    select
        period_month,
        '{{ extract }}' as extract_kind,
        coalesce(reported_unit_code, '(none)') as reported_unit_code,
        source_id,
        rejection_rule,
        count(*) as row_count
    from {{ ref('stg_dvc_portal__' ~ extract) }}
    group by 1, 2, 3, 4, 5

),
{% endfor %}

final as (

    {% for extract in extracts %}
    select * from {{ extract }}_rows
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from final
