"""The image and `make install` take the runtime dependencies from requirements.lock, hash-checked."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _locked() -> dict[str, list[str]]:
    """Package name -> its --hash values, from requirements.lock."""
    entries: dict[str, list[str]] = {}
    name = None
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if re.match(r"^[A-Za-z0-9]", line):
            name = _name(line)
            entries[name] = []
        elif "--hash=sha256:" in line and name:
            entries[name].append(line.split("--hash=sha256:")[1].split()[0])
    return entries


def test_lock_pins_every_runtime_dependency_with_hashes():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    locked = _locked()
    missing = [d for d in declared if _name(d) not in locked]
    assert not missing, f"not in requirements.lock (run `make lock`): {missing}"
    assert all(locked.values()), [n for n, hashes in locked.items() if not hashes]


def test_image_installs_from_the_lock_with_hashes_and_base_by_digest_argument():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --require-hashes --no-deps -r requirements.lock" in dockerfile
    assert re.search(r"^ARG PYTHON_IMAGE=", dockerfile, re.M)
    assert "FROM ${PYTHON_IMAGE}" in dockerfile
    assert "!requirements.lock" in (ROOT / ".dockerignore").read_text()


def test_make_install_uses_the_lock():
    assert "--require-hashes --no-deps -r requirements.lock" in (ROOT / "Makefile").read_text()
