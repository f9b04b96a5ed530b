"""The published marts as declared in the marts' dbt YAML, read from the real manifest."""

from __future__ import annotations

import json

import pytest

from publication.published_marts import MANIFEST_PATH, PublishedMartsError, published_marts


def test_the_declared_marts_and_their_gates(definitions):
    marts = {m.name: m for m in published_marts(MANIFEST_PATH)}
    required = {name for name, m in marts.items() if m.required}
    assert required == {"rpt_service_ranking_monthly", "fct_service_index_monthly",
                        "fct_service_index_indicators_monthly", "dim_units"}
    assert marts["rpt_score_lineage"].gate == "month" and marts["rpt_dti_ranking"].gate == "dti_year"
    assert marts["dim_units"].gate is None and marts["rpt_agency_quality_scorecard"].gate is None
    assert all(m.relation == f"marts.{m.name}" for m in marts.values())
    # every published mart is built by exactly one of the dbt assets (its tag is one selector's)
    assert all(len({"reference", "service_index", "audit", "dti", "kpi", "tasks"} & set(m.tags)) == 1
               for m in marts.values())
    # the KPI and task marts mix periods: each row carries its publication basis, and takes its
    # run, code version and input hash from the latest build of its own index
    row_gated = {name: m.provenance_index for name, m in marts.items() if m.gate == "row"}
    assert row_gated == {
        **dict.fromkeys(("fct_kpi_values", "rpt_kpi_progress", "rpt_national_scorecard",
                         "rpt_international_comparison"), "kpi"),
        **dict.fromkeys(("fct_tasks", "fct_task_status_reports", "rpt_task_status_by_agency", "rpt_overdue_tasks",
                         "rpt_task_warnings"), "tasks")}


def test_a_bad_declaration_names_the_file_model_and_field(tmp_path):
    manifest = tmp_path / "manifest.json"
    node = {"resource_type": "model", "name": "rpt_x", "schema": "marts", "tags": ["audit"],
            "original_file_path": "models/marts/audit/_audit__models.yml",
            "config": {"meta": {"dxmon": {"published": True, "publication_gate": "weekly",
                                          "publication_required": False}}}}
    manifest.write_text(json.dumps({"nodes": {"model.dxmon.rpt_x": node}}), encoding="utf-8")
    with pytest.raises(PublishedMartsError, match=r"_audit__models.yml: model rpt_x: config.meta.dxmon.publication_gate"):
        published_marts(manifest)
    with pytest.raises(PublishedMartsError, match="run `dxmon prepare` first"):
        published_marts(tmp_path / "missing.json")
