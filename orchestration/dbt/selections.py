"""Which dbt nodes each dbt asset builds: the named selectors of dbt_project/selectors.yml, one
per asset. Every model and seed carries exactly one of the tags the selectors select
(tests/dbt/test_selectors.py), so a new model joins an asset only by its folder's tag."""

from __future__ import annotations

REFERENCE = {"selector": "reference"}
SERVICE_INDEX = {"selector": "service_index"}
AUDIT = {"selector": "audit"}
DTI = {"selector": "dti"}
KPI = {"selector": "kpi"}
TASKS = {"selector": "tasks"}
