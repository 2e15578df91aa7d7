"""One training run, whatever experiment recorded it: the :class:`RunRecord` schema and the reader of every record
format the experiments have written.

The experiments keep their runs in ``runs.json`` files ({key: record}, :class:`experiments.harness.RunStore`).
Three record shapes exist: the node and heterophily records (``experiments.node_experiment``,
``experiments.heterophily``), the graph-level records (``experiments.graph_level``) and the depth-study records of
``experiments.grand_depth`` (two scorings of one training). :func:`read_record` maps each onto a
:class:`RunRecord`; a field an older record lacks is ``None``.

A run is *under-trained* when it used its whole epoch budget and its selected epoch lies in the last 10 % of it:
the validation score was still rising when training stopped.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

UNDER_TRAINED_TAIL = 0.1
"""The share of the epoch budget at its end in which a selected epoch marks a run as under-trained."""


def machine_load() -> float:
    """The load average of the machine over the last minute (``os.getloadavg``), recorded at a run's start."""
    return os.getloadavg()[0]


@dataclasses.dataclass(frozen=True)
class RunRecord:
    """One finished training run.

    ``best_epoch`` counts from 0 (the first epoch is 0), ``epochs_run`` is the number of epochs trained and
    ``epoch_budget`` the most the run was allowed; ``metrics`` holds the scores at the selected epoch under the
    names ``test``, ``val``, ``train`` (and, for a run scored several ways, ``<scoring>_test``, …); ``load`` is the
    machine's one-minute load average when the run started.
    """

    key: str
    model: str
    dataset: str
    split: int | None
    seed: int | None
    settings: str | None
    epoch_budget: int | None
    epochs_run: int | None
    best_epoch: int | None
    metrics: dict[str, float]
    seconds: float | None
    load: float | None
    metric: str | None = None

    @property
    def under_trained(self) -> bool | None:
        """Whether the run used its whole budget with the selected epoch in the budget's last 10 %
        (``None`` when the record lacks the epochs)."""
        if self.epoch_budget is None or self.epochs_run is None or self.best_epoch is None:
            return None
        return self.epochs_run >= self.epoch_budget and \
            self.best_epoch >= (1 - UNDER_TRAINED_TAIL) * self.epoch_budget


def _budget(record: Mapping[str, Any]) -> int | None:
    if "epoch_budget" in record:
        return record["epoch_budget"]
    return record.get("hyperparameters", {}).get("epochs")


def read_record(key: str, record: Mapping[str, Any]) -> RunRecord:
    """The :class:`RunRecord` of the record stored under ``key`` in a ``runs.json``, in any of the formats the
    experiments write."""
    if "faithful" in record:
        return _read_depth_study(key, record)
    if "test_accuracy" in record:
        metrics = {name: record[f"{name}_accuracy"] for name in ("test", "val", "train")}
        metric = "accuracy"
    elif "test" in record:
        metrics = {name: record[name] for name in ("test", "val", "train") if name in record}
        metric = record.get("metric")
    else:
        raise ValueError(f"record {key!r}: not a training run (no test score)")
    return RunRecord(
        key=key, model=record["model"], dataset=record["dataset"], split=record.get("split"),
        seed=record.get("init_seed", record.get("seed")), settings=record.get("settings"),
        epoch_budget=_budget(record), epochs_run=record.get("epochs_run"), best_epoch=record.get("best_epoch"),
        metrics=metrics, seconds=record.get("seconds"), load=record.get("load"), metric=metric,
    )


def _read_depth_study(key: str, record: Mapping[str, Any]) -> RunRecord:
    """A depth-study record: every epoch of ``epochs`` runs (counted from 1 there), scored ``faithful`` (the
    N-step output, whose epoch is the run's selected one) and ``official``."""
    dataset, model = key.split("/")[:2]
    metrics = {f"{scoring}_{name}": record[scoring][name] for scoring in ("faithful", "official")
               for name in ("test", "val")}
    return RunRecord(
        key=key, model=model, dataset=dataset, split=record.get("split"), seed=record.get("init_seed"),
        settings=None, epoch_budget=record.get("epoch_budget", record["epochs"]), epochs_run=record["epochs"],
        best_epoch=record["faithful"]["epoch"] - 1, metrics=metrics, seconds=record.get("seconds"),
        load=record.get("load"), metric="accuracy",
    )


def read_runs(path: str | Path) -> list[RunRecord]:
    """Every run of a ``runs.json`` file ({key: record}), in the file's key order."""
    records = json.loads(Path(path).read_text())
    if not isinstance(records, dict):
        raise ValueError(f"path: {path} holds no {{key: record}} run records")
    return [read_record(key, record) for key, record in records.items()]
