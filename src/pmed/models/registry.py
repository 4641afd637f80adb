"""The model registry under `PMED_HOME/models/`: one directory per model, content-addressed.

Each directory holds `model.pkl` (the fitted learner), `model.json` (metadata: content hash,
training-data fingerprint, cohort definition, feature dictionary, metrics, audit, library
versions), `test_predictions.csv` (so evaluation and audit can be recomputed without the store),
the figures, `evaluation.html` and the model card. The id is `<cohort>-<algorithm>-<hash[:10]>`;
loading re-hashes `model.pkl` and refuses a file that no longer matches its recorded hash.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import platform
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from pmed.errors import InputError, NotFoundError, StoreError
from pmed.models.train import TrainedModel

__all__ = ["RegisteredModel", "library_versions", "list_models", "load_model", "save_model"]

_LIBS = ("pmed", "scikit-learn", "lightgbm", "shap", "fairlearn", "numpy", "polars", "scipy")


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _LIBS:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def models_dir(home: Path) -> Path:
    return Path(home) / "models"


@dataclass
class RegisteredModel:
    """A model on disk: its id, directory, metadata and (loaded on demand) the learner."""

    id: str
    path: Path
    meta: dict[str, Any]
    _model: TrainedModel | None = field(default=None, repr=False)

    @property
    def model(self) -> TrainedModel:
        if self._model is None:
            blob = (self.path / "model.pkl").read_bytes()
            digest = hashlib.sha256(blob).hexdigest()
            if digest != self.meta["content_hash"]:
                raise StoreError(
                    f"model {self.id}: model.pkl does not match its recorded hash "
                    f"(sha256 {digest[:12]}… ≠ {self.meta['content_hash'][:12]}…); refusing to load"
                )
            self._model = pickle.loads(blob)
        return self._model

    def test_predictions(self) -> dict[str, np.ndarray]:
        import polars as pl

        frame = pl.read_csv(self.path / "test_predictions.csv", infer_schema_length=0)
        out: dict[str, np.ndarray] = {}
        for name in frame.columns:
            col = frame[name]
            if name in ("y",):
                out[name] = col.cast(pl.Int64).to_numpy()
            elif name in ("p",) or name.startswith("baseline:"):
                out[name] = col.cast(pl.Float64, strict=False).to_numpy()
            else:
                out[name] = col.to_numpy().astype(str)
        return out

    def file(self, name: str) -> Path:
        return self.path / name


def save_model(
    home: Path,
    model: TrainedModel,
    meta: dict[str, Any],
    test_columns: dict[str, np.ndarray],
) -> RegisteredModel:
    """Write a model and its metadata; returns it. Same content → same id (idempotent)."""
    blob = pickle.dumps(model, protocol=5)
    digest = hashlib.sha256(blob).hexdigest()
    model_id = f"{meta['cohort_name']}-{model.algorithm}-{digest[:10]}"
    root = models_dir(home)
    final = root / model_id
    staging = root / f".{model_id}.tmp"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    (staging / "model.pkl").write_bytes(blob)
    full = {
        "model_id": model_id,
        "algorithm": model.algorithm,
        "params": model.params,
        "content_hash": digest,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "libraries": library_versions(),
        **meta,
    }
    _write_json(staging / "model.json", full)
    _write_csv(staging / "test_predictions.csv", test_columns)
    if final.exists():
        shutil.rmtree(final)
    staging.rename(final)
    return RegisteredModel(model_id, final, full, model)


def update_meta(reg: RegisteredModel, **changes: Any) -> None:
    reg.meta.update(changes)
    _write_json(reg.path / "model.json", reg.meta)


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _write_csv(path: Path, columns: dict[str, np.ndarray]) -> None:
    import polars as pl

    pl.DataFrame({k: np.asarray(v) for k, v in columns.items()}).write_csv(path)


def list_models(home: Path) -> list[RegisteredModel]:
    root = models_dir(home)
    if not root.is_dir():
        return []
    out = []
    for child in sorted(root.iterdir()):
        meta_path = child / "model.json"
        if child.name.startswith(".") or not meta_path.is_file():
            continue
        meta = json.loads(meta_path.read_text())
        out.append(RegisteredModel(meta["model_id"], child, meta))
    return sorted(out, key=lambda m: m.meta.get("created", ""), reverse=True)


def load_model(home: Path, model_id: str) -> RegisteredModel:
    """A registered model by id, unique id prefix, or cohort name (the newest of that cohort)."""
    if not model_id or "/" in model_id or model_id.startswith("."):
        raise InputError(f"{model_id!r} is not a model id", field="MODEL")
    models = list_models(home)
    exact = [m for m in models if m.id == model_id]
    if exact:
        return exact[0]
    prefixed = [m for m in models if m.id.startswith(model_id)]
    if len(prefixed) == 1:
        return prefixed[0]
    named = [m for m in models if m.meta.get("cohort_name") == model_id]
    if named:
        return named[0]
    if len(prefixed) > 1:
        raise InputError(
            f"{model_id!r} matches {len(prefixed)} models: "
            + ", ".join(m.id for m in prefixed[:5]),
            field="MODEL",
        )
    known = ", ".join(m.id for m in models[:10]) or "none registered yet"
    raise NotFoundError(f"no model {model_id!r} under {models_dir(home)} (known: {known})")
