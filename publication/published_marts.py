"""The marts the platform publishes, declared once: in each mart's dbt YAML,

    config:
      meta:
        dxmon:
          published: true
          publication_gate: month | dti_year | row | period | none   # the gate its rows follow
          publication_required: true | false          # must exist at every publication

read here from the parsed dbt manifest (`dxmon prepare`). Publication copies exactly these; the
Dagster publication assets depend on exactly these."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from ingestion.core.warehouse import PROJECT_ROOT

MANIFEST_PATH = PROJECT_ROOT / "dbt_project" / "target" / "manifest.json"
MONTH, DTI_YEAR = "month", "dti_year"  # the service index's month, the DTI's year
# ROW: each row carries its own publication_basis (from meta.publication_gate, for marts that mix
# periods of several gated inputs: the KPI marts); publication drops the rows 'withheld'.
ROW = "row"
ROW_INDEXES = ("kpi", "tasks")  # the dbt tags of row-gated marts, each also its index in meta.run_provenance
# PERIOD: the service index over quarters, years and year to date (docs/service_index_periods.md):
# each row carries its publication_basis, computed in dbt from its months; publication drops the
# rows 'withheld' and adds the run, code version and input hash of the covered months' builds.
PERIOD = "period"
GATES = {MONTH: MONTH, DTI_YEAR: DTI_YEAR, ROW: ROW, PERIOD: PERIOD, "none": None}


class PublishedMartsError(RuntimeError):
    """The manifest is missing or a mart's publication meta is not valid."""


@dataclass(frozen=True)
class PublishedMart:
    name: str           # the dbt model name (the published table and Parquet file)
    relation: str       # schema.table in the warehouse
    gate: str | None    # MONTH, DTI_YEAR, ROW, PERIOD, or None (reference data and quality reports)
    required: bool      # False: published when built (the auditors' and the DTI's marts)
    tags: tuple[str, ...]  # its dbt tags: which selector (and asset) builds it

    @property
    def provenance_index(self) -> str | None:
        """The index whose latest build a row-gated mart's rows take their run, code version and
        input hash from (meta.run_provenance): its tag ('kpi' or 'tasks')."""
        return next((t for t in ROW_INDEXES if t in self.tags), None)


@functools.cache
def published_marts(manifest_path: Path = MANIFEST_PATH) -> tuple[PublishedMart, ...]:
    """Every published mart, required ones first, then by name."""
    try:
        manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PublishedMartsError(f"{manifest_path}: no dbt manifest; run `dxmon prepare` first") from exc
    marts = []
    for node in manifest.get("nodes", {}).values():
        meta = (node.get("config", {}).get("meta") or {}).get("dxmon") or {}
        if node.get("resource_type") != "model" or not meta.get("published"):
            continue
        where = f"{node.get('original_file_path')}: model {node['name']}: config.meta.dxmon"
        gate = meta.get("publication_gate")
        if gate not in GATES:
            raise PublishedMartsError(f"{where}.publication_gate is {gate!r}; expected one of {sorted(GATES)}")
        if not isinstance(meta.get("publication_required"), bool):
            raise PublishedMartsError(f"{where}.publication_required must be true or false")
        marts.append(PublishedMart(name=node["name"], relation=f"{node['schema']}.{node['name']}",
                                   gate=GATES[gate], required=meta["publication_required"],
                                   tags=tuple(node.get("tags", []))))
    if not marts:
        raise PublishedMartsError(f"{manifest_path}: no model is declared published (config.meta.dxmon.published)")
    return tuple(sorted(marts, key=lambda m: (not m.required, m.name)))


def published_mart_names(tag: str | None = None) -> list[str]:
    """Names of the published marts, those of one dbt tag (selector) when given."""
    return [m.name for m in published_marts() if tag is None or tag in m.tags]
