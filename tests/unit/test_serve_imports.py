"""`pingan serve` loads none of the modules only the operators' commands use: a serving process
keeps whatever it imports for its whole life (docs/benchmarks.md, target 5: memory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.registry import edge_names, service_names

ROOT = Path(__file__).resolve().parents[2]

# Modules for `pingan clients|events|new-service|audit|history|access-log`, the demo console,
# the embedded run and `make contracts`: never needed to serve.
OPERATOR_ONLY = ("shared.clients_cli", "shared.events_cli", "shared.scaffold", "shared.security.cli",
                 "shared.security.history_cli", "shared.demo", "shared.embedded", "shared.contract_docs",
                 "services.gateway.openapi")

# Runs the console entry as `pingan serve <name>`, with nameko's runner replaced by one that
# reports the loaded modules instead of serving.
PROBE = """
import json, sys, types
runner = types.ModuleType("nameko.cli.run")
def run(services, config):
    print(json.dumps({"served": [cls.__module__ for cls in services], "loaded": sorted(sys.modules)}))
    raise SystemExit(0)
runner.run = run
sys.modules["nameko.cli.run"] = runner
sys.argv = ["pingan", "serve", sys.argv[1]]
from shared.cli import main
main()
"""


@pytest.mark.parametrize("name", [*service_names(), *edge_names()])
def test_serve_imports_no_operator_only_module(name, tmp_path):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PINGAN_", "AMQP_URI"))}  # the embedded defaults: keys made in tmp_path
    env["PINGAN_DATA_DIR"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-c", PROBE, name], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["served"][0].startswith(f"services.{name}."), "the probe stopped before the service was loaded"
    extra = sorted(m for m in report["loaded"] if m.startswith(OPERATOR_ONLY))
    assert extra == [], f"`pingan serve {name}` imported modules only operators' commands use: {extra}"
