"""Which dbt nodes each dbt asset builds: one entry per asset, passed to `@dbt_assets`."""

from __future__ import annotations

REFERENCE = {"select": "tag:reference"}
# The DTI (tag dti) and the audit marts (tag audit) are built by their own assets.
SERVICE_INDEX = {"select": "fqn:*", "exclude": "tag:reference tag:dti tag:audit"}
AUDIT = {"select": "tag:audit"}
DTI = {"select": "tag:dti", "exclude": "tag:reference"}  # the DTI seeds are reference data
