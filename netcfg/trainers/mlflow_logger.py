"""A run logged to MLflow (``Training.Loggers: [TensorBoard, MLflow]``): its parameters at
the start, its metrics every epoch, its final metrics, and at the end its run directory as
artifacts.

The store is the one ``MLFLOW_TRACKING_URI`` names, as MLflow itself does (a server, a
database); without it, a SQLite store ``mlflow.db`` beside the run directory (MLflow 3 keeps
its file store for old data only), with the artifacts in ``mlartifacts`` beside it, so that
the runs of one folder can be compared: ``mlflow ui --backend-store-uri sqlite:///runs/mlflow.db``.
The experiment is ``MLFLOW_EXPERIMENT_ID`` or ``MLFLOW_EXPERIMENT_NAME`` when set, else the
config's Name; the MLflow run is named after the run directory and continues when the run is
resumed (its id is kept in ``run.json``).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from netcfg import __version__
from netcfg.errors import ConfigError, Issue, NetcfgError, UsageError
from netcfg.trainers.checkpoint import disk_errors
from netcfg.trainers.lock import LOCK_FILE
from netcfg.trainers.rundir import RunDir

__all__ = ["INSTALL", "MlflowLogger", "default_tracking_uri", "require_mlflow"]

INSTALL = "pip install 'netcfg[mlflow]'"
"""What to run for MLflow logging."""
STORE = "mlflow.db"
"""The default store's file, beside the run directory."""
ARTIFACTS = "mlartifacts"
"""The default store's artifact folder, beside the run directory."""
ENDS = {"completed": "FINISHED", "stopped": "FINISHED", "interrupted": "KILLED"}
"""The MLflow status of a run that ended with this ``run.json`` status (else FAILED)."""


def require_mlflow() -> None:
    """Check that MLflow can log this run, before it starts.

    Raises:
        ConfigError: ``mlflow`` is not installed, or (for the default SQLite store, when
            ``MLFLOW_TRACKING_URI`` is not set) SQLAlchemy or Alembic is not.
    """
    needed = ["mlflow"]
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        needed += ["sqlalchemy", "alembic"]
    missing = [name for name in needed if not _installed(name)]
    if missing:
        raise ConfigError(
            [
                Issue(
                    ("Training", "Loggers"),
                    f"logging to MLflow needs {' and '.join(missing)}, not installed: "
                    f"{INSTALL}, or remove MLflow from Training.Loggers",
                )
            ]
        )


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a module set to None, or without a spec
        return False


def default_tracking_uri(run_root: Path) -> str:
    """The SQLite store beside a run directory (``runs/mlflow.db`` for ``runs/x``)."""
    return "sqlite:///" + str(run_root.resolve().parent / STORE)


class MlflowLogger:
    """One netcfg run as an MLflow run.

    Args:
        run_dir: the run directory (with its ``run.json``).
        experiment: the experiment's name when the environment names none.
        params: the run's hyper-parameters (`config_hparams`), logged as strings.
        message: prints a line for the user.
        quiet: keep MLflow's own informational logging off stderr.

    Raises:
        UsageError: MLflow refused the store or the experiment (a bad tracking URI).
        NetcfgError: the store could not be reached.
    """

    def __init__(
        self,
        run_dir: RunDir,
        *,
        experiment: str,
        params: dict[str, Any],
        message: Callable[[str], None],
        quiet: bool = False,
    ):
        from mlflow import MlflowClient
        from mlflow.entities import Param

        if quiet:  # after importing mlflow, which sets its loggers' levels
            for name in ("mlflow", "alembic"):
                logging.getLogger(name).setLevel(logging.WARNING)

        self.run_dir = run_dir
        self.message = message
        given = os.environ.get("MLFLOW_TRACKING_URI")
        self.uri = given or default_tracking_uri(run_dir.root)
        self.run_id: str | None = None
        shown = f"{self.uri} (MLFLOW_TRACKING_URI)" if given else self.uri
        with _mlflow_errors(shown, "start a run"):
            self.client = MlflowClient(tracking_uri=self.uri)
            run = self._continued_run()
            if run is None:
                experiment_id = self._experiment(experiment, local=not given)
                run = self.client.create_run(
                    experiment_id,
                    run_name=run_dir.root.name,
                    tags={"netcfg.run_dir": str(run_dir.root.resolve()), "netcfg": __version__},
                )
            self.run_id = run.info.run_id
            logged = run.data.params
            self.client.log_batch(
                self.run_id,
                params=[
                    Param(_name(k), _param(v)) for k, v in params.items() if _name(k) not in logged
                ],
            )
        self._remember(run.info.experiment_id)
        shown = self.uri if given else f"{self.uri} (mlflow ui --backend-store-uri {self.uri})"
        message(f"mlflow: logging run {run_dir.root.name} ({self.run_id}) to {shown}")

    def _continued_run(self):
        """The MLflow run of a resumed run, in the same store (None when there is none)."""
        saved = self.run_dir.read_json("run.json").get("mlflow") or {}
        if saved.get("tracking_uri") != self.uri or not saved.get("run_id"):
            return None
        from mlflow.exceptions import MlflowException

        try:
            run = self.client.get_run(saved["run_id"])
        except MlflowException:  # deleted meanwhile: log a new one
            return None
        self.client.update_run(run.info.run_id, status="RUNNING")
        return run

    def _experiment(self, name: str, *, local: bool) -> str:
        """The experiment's id, created when new (artifacts beside the run in a local store)."""
        if os.environ.get("MLFLOW_EXPERIMENT_ID"):
            return os.environ["MLFLOW_EXPERIMENT_ID"]
        name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or name or "netcfg"
        found = self.client.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        location = (self.run_dir.root.resolve().parent / ARTIFACTS).as_uri() if local else None
        from mlflow.exceptions import MlflowException

        try:
            return self.client.create_experiment(name, artifact_location=location)
        except MlflowException:  # another process created it meanwhile
            found = self.client.get_experiment_by_name(name)
            if found is None:
                raise
            return found.experiment_id

    def _remember(self, experiment_id: str) -> None:
        """Keep the MLflow run's id in ``run.json``, for a resumed run to continue it."""
        run = self.run_dir.read_json("run.json")
        run["mlflow"] = {
            "tracking_uri": self.uri,
            "experiment_id": experiment_id,
            "run_id": self.run_id,
        }
        with disk_errors(self.run_dir.root / "run.json"):
            self.run_dir.write_json("run.json", run)

    def epoch(self, record: dict[str, Any]) -> None:
        """An epoch's metrics at step = its number: ``train/epoch_loss``,
        ``train/learning_rate``, ``train/examples_per_second`` and ``validation/<metric>``."""
        scalars = {
            "train/epoch_loss": record["train_loss"],
            "train/learning_rate": record["learning_rate"],
            "train/examples_per_second": record["examples_per_second"],
        }
        for name, value in record.get("validation", {}).items():
            scalars[f"validation/{name}"] = value
        self._metrics(scalars, record["epoch"])

    def finish(self, results: dict[str, dict[str, float]], epochs: int, best: int | None) -> None:
        """The final metrics at step = ``epochs``: ``test/<metric>`` and ``best_epoch``."""
        scalars = {f"test/{name}": value for name, value in results.get("test", {}).items()}
        if best is not None:
            scalars["best_epoch"] = best
        self._metrics(scalars, epochs)

    def _metrics(self, scalars: dict[str, float], step: int) -> None:
        if self.run_id is None or not scalars:
            return
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(_name(k), float(v), now, step) for k, v in scalars.items()]
        self._try(lambda: self.client.log_batch(self.run_id, metrics=metrics), "log metrics")

    def close(self) -> None:
        """End the MLflow run as ``run.json`` says the run ended; a run that completed (or
        stopped early) logs its run directory as artifacts first."""
        if self.run_id is None:
            return
        run_id, self.run_id = self.run_id, None
        try:
            status = self.run_dir.read_json("run.json").get("status")
        except (OSError, ValueError):
            status = None
        end = ENDS.get(status, "FAILED")
        if end == "FINISHED":
            self._try(lambda: self._artifacts(run_id), "log the run directory as artifacts")
        self._try(lambda: self.client.set_terminated(run_id, end), "end the run")

    def _artifacts(self, run_id: str) -> None:
        for path in sorted(self.run_dir.root.iterdir()):
            if path.name == LOCK_FILE or path.name.startswith("."):
                continue
            if path.is_dir():
                self.client.log_artifacts(run_id, str(path), artifact_path=path.name)
            else:
                self.client.log_artifact(run_id, str(path))

    def _try(self, call: Callable[[], Any], what: str) -> None:
        """Call MLflow; a failure stops the logging with a message, never the training."""
        try:
            call()
        except Exception as err:  # a tracking server that went away must not stop a run
            self.message(f"mlflow: cannot {what} ({err}); the run goes on without MLflow")
            self.run_id = None


@contextmanager
def _mlflow_errors(uri: str, what: str) -> Iterator[None]:
    """Report MLflow's refusal of a store or an experiment as a `UsageError` (a bad
    tracking URI: exit status 2), other failures to reach the store as a `NetcfgError`."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except NetcfgError:
        raise
    except MlflowException as err:
        text = f"mlflow: cannot {what} in {uri}: {str(err.message).strip()}"
        if err.error_code == "INVALID_PARAMETER_VALUE":
            raise UsageError(text) from err
        raise NetcfgError(text) from err
    except Exception as err:  # the store's own errors: a server down, a locked database
        raise NetcfgError(f"mlflow: cannot {what} in {uri}: {err}") from err


_BAD_CHARACTERS = re.compile(r"[^\w./ -]")


def _name(key: str) -> str:
    """A parameter or metric name MLflow takes (``NDCG@10`` becomes ``NDCG_at_10``)."""
    return _BAD_CHARACTERS.sub("_", key.replace("@", "_at_"))


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
