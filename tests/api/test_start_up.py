"""Everything clinical is loaded once, at start-up, by the composition root: what is on disk later
changes nothing until the service restarts, and a bad file stops start-up instead of failing patients."""
from __future__ import annotations

import re
import shutil

import pytest

from cds_service.settings import ConfigError, Settings
from devkit import fhirbuild as fb
from tests.support import apps
from tests.support.order_builders import crs_patient
from tests.support.paths import PROTOCOL_DATA

URL = "/cds-services/crs-patient-view"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


REQUEST = fb.hook_request(crs_patient(70, grade=3))


def cards(client) -> str:
    response = client.post(URL, json=REQUEST)
    assert response.status_code == 200, response.get_json()
    return UUID.sub("<uuid>", response.get_data(as_text=True))


def test_a_protocol_file_edited_after_start_up_changes_nothing_until_restart(tmp_path) -> None:
    protocol = tmp_path / "site-protocol.yaml"
    shutil.copy(PROTOCOL_DATA / "astct-generic.yaml", protocol)
    client = apps.client(Settings(protocol_id=str(protocol)))
    before = cards(client)
    assert "Dexamethasone 10 mg IV every 6 h" in before

    protocol.write_text("id: [this is not a protocol\n")  # a bad edit on disk
    assert cards(client) == before  # answers as before: nothing is re-read on a request

    with pytest.raises(ConfigError, match=r"CRS_CDS_PROTOCOL: .*invalid YAML"):  # a restart reads it, and refuses it
        apps.client(Settings(protocol_id=str(protocol)))


def test_a_removed_protocol_file_changes_nothing_until_restart(tmp_path) -> None:
    protocol = tmp_path / "site-protocol.yaml"
    shutil.copy(PROTOCOL_DATA / "christie-doc644-v8.yaml", protocol)
    client = apps.client(Settings(protocol_id=str(protocol)))
    before = cards(client)
    protocol.unlink()
    assert cards(client) == before
    with pytest.raises(ConfigError, match=r"CRS_CDS_PROTOCOL: .*file not found"):
        apps.client(Settings(protocol_id=str(protocol)))
