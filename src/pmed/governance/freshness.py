"""Noticing changes made by other processes, cheaply: governance caches consents and care
teams per patient, and a `ChangeWatch` tells it, at most once per `interval`, whether any
resource of the watched types was written since (one indexed MAX(last_updated) per type on the
store's `(type, last_updated)` index). Writes made through this process invalidate at once;
writes by other processes (another API worker, `pmed ingest`) are seen within `interval`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from pmed.record import schema

__all__ = ["ChangeWatch", "PatientCache"]


class ChangeWatch:
    def __init__(self, store: Any, types: Sequence[str], *, interval: float = 1.0) -> None:
        self.engine = getattr(store, "engine", None)
        self.types = list(types)
        self.interval = interval
        self._lock = threading.Lock()
        self._checked = 0.0
        self._token = self._read() if self.engine is not None else None

    def _read(self) -> tuple[Any, ...] | None:
        r = schema.resources.c
        try:
            with self.engine.connect() as conn:  # type: ignore[union-attr]
                return tuple(
                    conn.execute(sa.select(sa.func.max(r.last_updated)).where(r.type == t)).scalar()
                    for t in self.types
                )
        except SQLAlchemyError:
            return None

    def changed(self) -> bool:
        """True once after resources of the watched types were written (checked per interval)."""
        if self.engine is None:
            return False
        now = time.monotonic()
        with self._lock:
            if now - self._checked < self.interval:
                return False
            self._checked = now
        token = self._read()
        with self._lock:
            if token == self._token:
                return False
            self._token = token
            return True


T = TypeVar("T")
_MAX_PATIENTS = 50000


class PatientCache(Generic[T]):
    """Per-patient values loaded from the store, kept `ttl` seconds, dropped when a
    `ChangeWatch` over `types` sees another process write one of them."""

    def __init__(
        self, store: Any, types: Sequence[str], *, ttl: float, watch_interval: float
    ) -> None:
        self.ttl = ttl
        self._watch = ChangeWatch(store, types, interval=watch_interval)
        self._values: dict[str, tuple[float, T]] = {}
        self._lock = threading.Lock()

    def get(self, patient_id: str, load: Callable[[str], T]) -> T:
        if self._watch.changed():
            self.invalidate()
        now = time.monotonic()
        with self._lock:
            hit = self._values.get(patient_id)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        value = load(patient_id)
        with self._lock:
            if len(self._values) > _MAX_PATIENTS:
                self._values.clear()
            self._values[patient_id] = (now, value)
        return value

    def invalidate(self, patient_id: str | None = None) -> None:
        with self._lock:
            if patient_id is None:
                self._values.clear()
            else:
                self._values.pop(patient_id, None)
