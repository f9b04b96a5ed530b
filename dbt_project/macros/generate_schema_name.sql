{#- Schemas are the layer names themselves (seeds, staging, intermediate, marts), not
    "<target schema>_<layer>": other code (validation, publication) reads them by these names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
