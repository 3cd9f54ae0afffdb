"""``pingan new-service`` writes a service that passes the repository's checks untouched: in a copy of
the repository, the new service's own tests, the contract suite, the docs, import-graph, chart and
dashboards checks pass, and the service answers in the embedded run and renders in the chart."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.processes import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
HELM = ROOT / ".tools" / "bin" / "helm"
NAME = "volunteers"
UNIT_CHECKS = ["tests/unit/test_service_docs.py", "tests/unit/test_import_graph.py",
               "tests/unit/test_service_contract.py", "tests/unit/test_chart_follows_registry.py",
               "tests/unit/test_dashboards_generated.py", "tests/unit/test_contract_docs.py",
               f"tests/unit/test_{NAME}_service.py"]


def pingan(copy: Path, *args: str, **options) -> subprocess.CompletedProcess:
    """The copy's own ``pingan`` (its code first on the path, not this checkout's)."""
    return subprocess.run([sys.executable, "-c", "from shared.cli import main; main()", *args], cwd=copy,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(copy), "PYTHONPATH": str(copy), "COLUMNS": "200"},
                          capture_output=True, text=True, timeout=180, **options)


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    """The repository's tracked and new (not ignored) files, with the new service written into them."""
    target = tmp_path_factory.mktemp("repo")
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    written = pingan(target, "new-service", NAME)
    assert written.returncode == 0, written.stdout + written.stderr
    return target


def test_new_service_passes_the_unit_checks_untouched(copy):
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *UNIT_CHECKS],
                            cwd=copy, env={"PATH": "/usr/bin:/bin", "HOME": str(copy), "PYTHONPATH": str(copy)},
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:]


def test_new_service_passes_the_lint_untouched(copy):
    """``make lint`` (ruff, mypy as configured in pyproject.toml), the first step of ``make test``."""
    tools = Path(sys.executable).parent
    for command in ([str(tools / "ruff"), "check", "."], [str(tools / "mypy")]):
        linted = subprocess.run(command, cwd=copy, env={"PATH": "/usr/bin:/bin", "HOME": str(copy)},
                                capture_output=True, text=True, timeout=600)
        assert linted.returncode == 0, linted.stdout[-4000:]


def test_new_service_answers_in_the_embedded_run(copy, tmp_path):
    calls = (f'n.rpc.{NAME}.open_record(jurisdiction="433101001001", note="a volunteer")["version"]\n'
             f'n.rpc.{NAME}.list_records(jurisdiction="433101")["total"]\n')
    ran = pingan(copy, "run", "--data-dir", str(tmp_path / "data"), "--port", str(free_port()), input=calls)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert "Traceback" not in ran.stdout + ran.stderr
    assert (tmp_path / "data" / f"{NAME}.events.sqlite").exists()
    assert "\n1\n" in ran.stdout.replace(">>> ", "\n")


def test_new_service_is_a_cli_service(copy):
    refused = pingan(copy, "new-service", NAME)  # the registry knows it: a second one is refused
    assert refused.returncode == 2 and "exists already" in refused.stdout


def test_new_service_is_in_the_chart_rendering(copy):
    assert HELM.exists(), "helm is not installed: make -f mk/deploy.mk deploy-tools (make test does it first)"
    rendered = subprocess.run([str(HELM), "template", "pingan", "charts/pingan", "-n", "pingan"], cwd=copy,
                              capture_output=True, text=True, timeout=120)
    assert rendered.returncode == 0, rendered.stderr
    assert f'args: ["migrate", "{NAME}"' in rendered.stdout  # its migrate hook
    deployments = [doc for doc in rendered.stdout.split("\n---") if "\nkind: Deployment" in doc]
    assert any(f"name: pingan-{NAME}\n" in doc for doc in deployments)


def test_new_service_install_lines_create_every_secret_it_reads(copy):
    """Its pods read its own event-signing key: the dev overlay the install lines apply has it."""
    checked = subprocess.run([sys.executable, "deploy/check_install_lines.py", "README.md", "docs/deploy.md"],
                             cwd=copy, env={"PATH": f"{HELM.parent}:/usr/bin:/bin", "HOME": str(copy)},
                             capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr
