{#- The period window of one invocation: period_start (inclusive) and period_end (exclusive),
    both first days of months. The Dagster assets set them as the environment variables
    DXMON_PERIOD_START / DXMON_PERIOD_END (orchestration/dbt/build.py): a changed environment
    variable makes dbt reparse only the files that read it, a changed `--vars` the whole project.
    Without them, the vars period_start / period_end apply (dbt_project.yml; `--vars` by hand). -#}

{% macro period_start() -%}
    cast('{{ env_var("DXMON_PERIOD_START", var("period_start")) }}' as date)
{%- endmacro %}

{% macro period_end() -%}
    cast('{{ env_var("DXMON_PERIOD_END", var("period_end")) }}' as date)
{%- endmacro %}

{#- `column >= period_start and column < period_end` -#}
{% macro in_period_window(column='period_month') -%}
    ({{ column }} >= {{ period_start() }} and {{ column }} < {{ period_end() }})
{%- endmacro %}

{#- Pre-hook of every period-scoped incremental model: delete the window's months before the
    delete+insert, so a month that lost all its rows upstream does not keep stale rows.
    (delete+insert alone only replaces months that still produce rows.) -#}
{% macro delete_period_window(column='period_month') -%}
    {%- set existing = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
    {%- if existing is not none and not should_full_refresh() -%}
        delete from {{ this }} where {{ in_period_window(column) }}
    {%- else -%}
        select 1 as nothing_to_delete
    {%- endif -%}
{%- endmacro %}
