"""The named selectors of dbt_project/selectors.yml partition the project: every model and seed of
the manifest belongs to exactly one selector (one selector per Dagster asset of dbt nodes, so a
new model joins exactly one asset, through its folder's tag)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.dbt.dbt_runner import PROJECT_DIR, REPO, DbtTestWarehouse, dbt_executable

SELECTORS = ("reference", "service_index", "dti", "audit", "kpi", "tasks")

# One process parses once and lists every selector from that manifest (dbt's programmatic runner):
# a `dbt ls` per selector would parse the project again each time.
LIST_SELECTIONS = """
import json, sys
from dbt.cli.main import dbtRunner
project, target, selectors = sys.argv[1], sys.argv[2], sys.argv[3:]
common = ["--project-dir", project, "--profiles-dir", project, "--target-path", target,
          "--log-path", target + "/logs", "--quiet"]
parsed = dbtRunner().invoke(["parse", *common])
assert parsed.success, parsed.exception
runner = dbtRunner(manifest=parsed.result)
listed = {}
for name in [None, *selectors]:
    args = ["ls", *common, "--resource-type", "model", "seed", "--output", "json", "--output-keys", "unique_id"]
    result = runner.invoke(args + (["--selector", name] if name else []))
    assert result.success, result.exception
    listed[name or ""] = sorted(json.loads(line)["unique_id"] for line in result.result)
print(json.dumps(listed))
"""


@pytest.fixture(scope="module")
def selections(tmp_path_factory) -> tuple[set[str], dict[str, set[str]]]:
    dbt_executable()  # skips without dbt
    warehouse = DbtTestWarehouse(tmp_path_factory.mktemp("dbt_selectors"))
    target = warehouse.root / "target"
    result = subprocess.run([sys.executable, "-c", LIST_SELECTIONS, str(PROJECT_DIR), str(target), *SELECTORS],
                            env=warehouse.env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    listed = json.loads(result.stdout.strip().splitlines()[-1])
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    nodes = {uid for uid, node in manifest["nodes"].items() if node["resource_type"] in ("model", "seed")}
    assert nodes == set(listed.pop(""))
    return nodes, {name: set(ids) for name, ids in listed.items()}


def test_the_selectors_are_the_assets_selections():
    defined = [s["name"] for s in yaml.safe_load((Path(PROJECT_DIR) / "selectors.yml").read_text())["selectors"]]
    assert sorted(defined) == sorted(SELECTORS)


def test_every_model_and_seed_belongs_to_exactly_one_selector(selections):
    nodes, by_selector = selections
    owners = {uid: [name for name, selected in by_selector.items() if uid in selected] for uid in nodes}
    assert not {uid: names for uid, names in owners.items() if len(names) != 1}
    assert all(by_selector.values())  # no empty selector
