"""The publication gate's rule, its one definition (docs/architecture.md, "The gate").

In SQL over a period's status `s` (is_publishable, blocking_failures; NULL when the period was
never validated) and its latest override `o` (override_id, overridden_checks; NULL when there is
none): a period is published when its checks passed, or on an override that names exactly its
current failures; otherwise it is withheld. Publication runs it over every period
(publication/publish.py), the warehouse view `meta.publication_gate` runs it for the models that
must leave withheld periods out before publication (the KPI marts, docs/kpi_tracking.md), and
`gate_basis()` runs it on one period's values (explain, audit packs)."""

GATE_BASIS_SQL = """CASE WHEN s.is_publishable THEN 'checks_passed'
                    WHEN s.is_publishable IS NOT NULL
                         AND o.overridden_checks = coalesce(s.blocking_failures, '') THEN 'override'
                    ELSE 'withheld' END"""
# an override that no longer covers the period's failures (they changed after it was recorded)
STALE_OVERRIDE_SQL = """CASE WHEN NOT coalesce(s.is_publishable, false) AND o.override_id IS NOT NULL
                         AND o.overridden_checks <> coalesce(s.blocking_failures, '')
                    THEN o.override_id END"""
