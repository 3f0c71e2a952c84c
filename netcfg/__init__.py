"""netcfg: declarative deep networks for sparse recommender data, on PyTorch.

A network is described in DSSTNE's layer definition language (JSON or YAML), extended
with Training, Data and Evaluation sections; it is loaded into a frozen spec and compiled
into a plain ``torch.nn.Module``.

Example:
    >>> import netcfg
    >>> spec = netcfg.load_config("model.json", overrides=["Layers.Hidden.N=256"])
    >>> network = netcfg.compile_network(spec, widths={"ratings": 1682})
"""

from netcfg.config import load_config, validate_config
from netcfg.errors import CompileError, ConfigError, DataError, NetcfgError
from netcfg.networks.compile import compile_network
from netcfg.networks.network import Network, NetworkOutput
from netcfg.networks.spec import ModelSpec

__version__ = "0.2.0"


def __getattr__(name: str):
    """``netcfg.train``, ``netcfg.tune``, ``netcfg.load_model`` and ``netcfg.recommend``
    are imported on first use (they pull in TensorBoard, the trainer and Optuna)."""
    if name == "train":
        from netcfg.experiments.run import train

        return train
    if name == "tune":
        from netcfg.experiments.study import tune

        return tune
    if name == "load_model":
        from netcfg.trainers.rundir import load_model

        return load_model
    if name == "recommend":
        from netcfg.inference.recommend import recommend

        return recommend
    raise AttributeError(f"module 'netcfg' has no attribute {name!r}")


__all__ = [
    "CompileError",
    "ConfigError",
    "DataError",
    "ModelSpec",
    "NetcfgError",
    "Network",
    "NetworkOutput",
    "__version__",
    "compile_network",
    "load_config",
    "load_model",
    "recommend",
    "train",
    "tune",
    "validate_config",
]
