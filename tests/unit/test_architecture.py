"""The rooms form a ladder (DESIGN.md, README "How it is built"): checked with import-linter on the real code.

`.importlinter` holds the contracts: a room imports only rooms below it — so `cases` never imports `supervision`
and `calendar` never imports `cases` — and only `app.engine` imports SpiffWorkflow.
"""
from __future__ import annotations

import configparser

from importlinter import cli

from tests.conftest import ROOT

CONFIG = ROOT / ".importlinter"


def test_the_rooms_form_a_ladder_and_only_the_engine_talks_to_spiffworkflow(capsys):
    assert cli.lint_imports(config_filename=str(CONFIG), no_cache=True, no_logo=True) == 0, capsys.readouterr().out


def test_the_ladder_names_the_rungs_the_issue_asked_for():
    contracts = configparser.ConfigParser()
    contracts.read(CONFIG)
    rungs = [{m.strip() for m in line.replace("|", ":").split(":")}
             for line in contracts["importlinter:contract:ladder"]["layers"].splitlines() if line.strip()]

    def rung(module):
        return next(i for i, modules in enumerate(rungs) if module in modules)

    assert rung("app.api") < rung("app.supervision") < rung("app.cases") < rung("app.calendar") < rung("app.engine")
    assert rung("app.cases") == rung("app.definitions") and rung("app.calendar") == rung("app.catalog")
    assert rung("app.events") > rung("app.engine")  # the event seam sits at the bottom, knowing no room
