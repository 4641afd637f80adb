"""Cohort extraction for model training honours research opt-outs: `pmed models train` (and
external validation) pass the patients whose consent forbids research use to
`extract_cohort(exclude_patients=…)`, which leaves them out and says so in the attrition."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pmed.cli import cli
from pmed.config import Settings
from pmed.governance import consent
from pmed.governance.consent import ConsentEngine
from pmed.population import extract_cohort, load_definition
from pmed.record.store import Store
from tests.models.test_cohort_extraction import _definition, _record


@pytest.fixture
def store(settings: Settings) -> Store:
    s = Store.open(settings)
    s.write_batch([*_record(), {**consent.research_opt_out("p2"), "id": "c-p2"}])
    return s


def test_patients_who_opted_out_of_research_are_left_out_of_the_training_cohort(
    store: Store,
) -> None:
    opted_out = ConsentEngine(store).research_opted_out()
    assert opted_out == {"p2"}
    fs = extract_cohort(store, load_definition(_definition()), exclude_patients=opted_out)
    assert fs.frame["patient_id"].to_list() == ["p1", "p7"]  # p2 would otherwise be in
    steps = [(a["step"], a["patients"]) for a in fs.attrition]
    assert steps[:2] == [("patients in the store", 7), ("research use permitted", 6)]
    everyone = extract_cohort(store, load_definition(_definition()))
    assert everyone.frame["patient_id"].to_list() == ["p1", "p2", "p7"]


def test_models_train_passes_the_research_opt_outs_to_extraction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    Store.open(Settings(home=home)).write_batch(
        [*_record(), {**consent.research_opt_out("p7"), "id": "c-p7"}]
    )
    definition = tmp_path / "cohort.json"
    definition.write_text(json.dumps(_definition()))
    seen: dict[str, Any] = {}

    def spy(store: Store, definition: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        raise SystemExit(0)

    monkeypatch.setattr("pmed.population.extract_cohort", spy)
    result = CliRunner().invoke(
        cli, ["models", "train", str(definition)], env={"PMED_HOME": str(home)}
    )
    assert result.exit_code == 0, result.output
    assert seen["exclude_patients"] == {"p7"}


def test_extraction_runs_over_sealed_observations_and_leaves_their_values_out(
    settings: Settings,
) -> None:
    from pmed.governance.config import GovernanceConfig
    from pmed.governance.encryption import MasterKey
    from pmed.governance.sealing import attach_sealer

    config = GovernanceConfig(home=settings.home, master_key=MasterKey.generate().encoded())
    store = attach_sealer(Store.open(settings), config=config)
    records = _record()
    smoking = next(r for r in records if r["id"] == "p1-smk")
    smoking["note"] = [{"text": "smokes 20 a day, trying to quit"}]  # a note: sealed
    store.write_batch(records)
    fs = extract_cohort(store, load_definition(_definition()))
    rows = {r["patient_id"]: r for r in fs.frame.iter_rows(named=True)}
    assert (rows["p1"]["smoker"], rows["p2"]["smoker"]) == (None, 0)
