"""``dm-explore diff`` per test: the sample project's suite recorded twice, HEAD with an N+1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.ci_docs.sample import SAMPLE, _plugin_args, run_sample

pytestmark = pytest.mark.django

ITEMS_PAGE = "tests/test_shop.py::test_items_page"
# HEAD's items view looks every item up once more: one more query per item.
HEAD_ITEMS = """def items(request: HttpRequest) -> JsonResponse:
    rows = [{"name": i.name, "category": i.category.name} for i in Item.objects.all()]
    names = [Item.objects.get(pk=i.pk).name for i in Item.objects.all()]
    log.warning("listed %d items", len(names))
    return JsonResponse({"items": rows})
"""


def _run_head(folder: Path, work: Path) -> None:
    project = work / "sample_project"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("__pycache__"))
    views = project / "shop" / "views.py"
    text = views.read_text()
    start, end = text.index("def items("), text.index("def boom(")
    views.write_text(text[:start] + HEAD_ITEMS + "\n\n" + text[end:])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DM_", "PYTEST_"))}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    subprocess.run(
        [sys.executable, "-m", "pytest", *_plugin_args(), "-q", "--dm-log-dir", str(folder)],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _diff(*args: str) -> tuple[int, dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "dm_explore.cli", "diff", *args, "--format", "json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_a_test_that_runs_more_queries_is_worse_and_gated(tmp_path: Path) -> None:
    base, head = tmp_path / "base", tmp_path / "head"
    run_sample("--dm-log-dir", str(base))
    _run_head(head, tmp_path)
    code, diff = _diff(str(base), str(head), "--n-plus-one", "3")
    assert code == 0
    tests = {t["key"]: t for t in diff["tests"]}
    assert set(tests) >= {ITEMS_PAGE, "tests/test_shop.py::test_boom_is_a_500"}
    page = tests[ITEMS_PAGE]
    # Fixture inserts (3 categories, 3 items) + 1 + 3 in the view; HEAD: + 1 + 3 more.
    assert page["head"]["queries_per_request"] - page["base"]["queries_per_request"] == 4
    assert page["base"]["requests"] == page["head"]["requests"] == 1
    # The fixture's two INSERT loops and the view's SELECT per item; HEAD adds its own loop.
    assert (page["base"]["n_plus_one"], page["head"]["n_plus_one"]) == (3, 4)
    assert page["change"] == "worse"
    assert tests["tests/test_shop.py::test_boom_is_a_500"]["change"] in ("same", "better", "worse")
    assert (
        tests["tests/test_shop.py::test_boom_is_a_500"]["base"]["queries_per_request"]
        == (tests["tests/test_shop.py::test_boom_is_a_500"]["head"]["queries_per_request"])
    )
    code, diff = _diff(str(base), str(head), "--n-plus-one", "3", "--max-query-increase", "3")
    assert code == 1
    assert f"{ITEMS_PAGE}: queries per request" in " ".join(diff["crossed"])
    assert all("test_boom" not in c for c in diff["crossed"])
    new = [(f["kind"], f["where"]) for f in diff["new_findings"]]
    assert ("n_plus_one", "GET items/") in new
