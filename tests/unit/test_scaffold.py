"""``pingan new-service`` refuses a bad or taken name before writing anything, and adds its chart
entry and dev signing key where the chart and the install lines read them."""

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from shared.errors import ValidationFailed
from shared.scaffold import DEV_OVERLAY, VALUES, chart_entry, dev_signing_key, new_service

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo(tmp_path) -> Path:
    for name in (VALUES, DEV_OVERLAY, "k8s/base/postgres.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    (tmp_path / "services" / "mediation").mkdir(parents=True)
    return tmp_path


@pytest.mark.parametrize("name", ["Volunteers", "1st", "two-words", "class", "trailing_", "a" * 41])
def test_new_service_bad_name_is_refused_and_nothing_written(repo, name):
    before = {path: path.read_text() for path in repo.rglob("*") if path.is_file()}
    with pytest.raises(ValidationFailed):
        new_service(repo, name)
    assert {path: path.read_text() for path in repo.rglob("*") if path.is_file()} == before


def test_new_service_existing_name_is_refused(repo):
    with pytest.raises(ValidationFailed, match="exists already"):
        new_service(repo, "mediation")


def test_new_service_chart_entry_joins_the_services_map():
    values = (ROOT / VALUES).read_text()
    services = yaml.safe_load(chart_entry(values, "volunteers"))["services"]
    before = set(yaml.safe_load(values)["services"])
    assert list(services)[-1] == "volunteers" and set(services) - {"volunteers"} == before


def test_new_service_dev_key_pair_joins_the_overlay():
    overlay = dev_signing_key((ROOT / DEV_OVERLAY).read_text(), "volunteers")
    generator = {entry["name"]: entry["literals"] for entry in yaml.safe_load(overlay)["secretGenerator"]}
    public = json.loads(generator["pingan-event-public-keys"][0].removeprefix("keys="))
    private = generator["pingan-event-key-volunteers"][0]
    assert "volunteers" in public and re.fullmatch(r"key=[A-Za-z0-9+/]{43}=", private)
