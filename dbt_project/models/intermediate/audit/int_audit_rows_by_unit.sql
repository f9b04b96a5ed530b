-- Rows loaded and rejected per month, extract, reporting unit (the code as reported), source and
-- rejection rule, over every raw extract, valid or not (staging keeps only valid rows). The unit
-- column of each extract is its contract's unit field (ingestion/core/extract_contract.py).
{%- set extracts = [
    ('dossiers', 'parent_unit_code'),
    ('dossier_status_history', 'parent_unit_code'),
    ('procedures', 'unit_code'),
    ('complaints', 'unit_code'),
] %}
with

{% for extract, unit_column in extracts %}
{{ extract }}_rows as (

    select
        period_month,
        '{{ extract }}' as extract_kind,
        coalesce({{ unit_column }}, '(none)') as reported_unit_code,
        source_id,
        rejection_rule,
        count(*) as row_count
    from {{ source('dvc_portal', extract) }}
    group by 1, 2, 3, 4, 5

),
{% endfor %}

final as (

    {% for extract, _ in extracts %}
    select * from {{ extract }}_rows
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from final
