"""``cityos hub load``, ``tenants``, ``entities`` and ``entity``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner


def test_entities_from_the_command_line(cli_db: str, tmp_path: Path) -> None:
    from cityos.cli import app
    from cityos.core import migrate
    from cityos.core.db import make_engine

    migrate.upgrade(make_engine(cli_db))
    file = tmp_path / "things.json"
    file.write_text(
        json.dumps(
            [
                {"id": "urn:ngsi-ld:Thing:1", "type": "Thing", "level": {"type": "Property", "value": 1}},
                {"id": "urn:ngsi-ld:Thing:2", "type": "Thing", "level": 2},
                {"id": "bad", "type": "Thing"},
            ]
        )
    )
    runner = CliRunner()
    loaded = runner.invoke(app, ["hub", "load", str(file), "--tenant", "cli"])
    assert loaded.exit_code == 1  # one refused
    assert "2 entities written (2 new), 1 refused" in loaded.output
    tenants = runner.invoke(app, ["hub", "tenants"])
    assert "cli" in tenants.output
    counted = runner.invoke(app, ["hub", "entities", "--tenant", "cli"])
    assert counted.exit_code == 0, counted.output
    assert "Thing" in counted.output
    listed = runner.invoke(
        app, ["hub", "entities", "--tenant", "cli", "--type", "https://uri.etsi.org/ngsi-ld/default-context/Thing"]
    )
    assert "urn:ngsi-ld:Thing:2" in listed.output
    shown = runner.invoke(app, ["hub", "entity", "urn:ngsi-ld:Thing:1", "--tenant", "cli"])
    assert json.loads(shown.output)["https://uri.etsi.org/ngsi-ld/default-context/level"]["value"] == 1
    missing = runner.invoke(app, ["hub", "entity", "urn:ngsi-ld:Thing:9", "--tenant", "cli"])
    assert missing.exit_code == 1
    bad = runner.invoke(app, ["hub", "load", str(file), "--tenant", "bad tenant"])
    assert bad.exit_code == 1
