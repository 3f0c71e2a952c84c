"""How many CPU threads torch uses, and why.

torch's default is every core of the machine, even when this process may only run on a
few of them (``taskset``, a container's CPU quota) or shares them with other work; then
its threads wait for each other and an epoch can take many times longer than on one
thread. netcfg picks the count itself and says where it came from: ``NETCFG_THREADS``,
else the config's ``Training.Threads``, else the CPUs this process may actually use (shared
out among the data-parallel processes torchrun starts on the machine).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch

from netcfg.errors import ConfigError, Issue, Location

__all__ = ["CGROUP_ROOT", "ENV_VARIABLE", "configure_threads", "usable_cpus"]

ENV_VARIABLE = "NETCFG_THREADS"
CGROUP_ROOT = Path("/sys/fs/cgroup")


def _affinity() -> int:
    """CPUs the scheduler lets this process run on (all CPUs where that is unknown)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _read_numbers(path: Path) -> list[str] | None:
    try:
        return path.read_text().split()
    except OSError:
        return None


def _cgroup_quota(root: Path) -> float | None:
    """CPUs allowed by the cgroup CPU quota (quota / period), or None without a quota.

    cgroup v2: ``cpu.max`` holds ``"quota period"`` or ``"max period"``. cgroup v1:
    ``cpu.cfs_quota_us`` (-1: none) and ``cpu.cfs_period_us``, in the ``cpu`` controller
    folder under ``root`` (or in ``root`` itself).
    """
    fields = _read_numbers(root / "cpu.max")
    if fields is not None:
        quota, period = (fields + ["", ""])[:2]
    else:
        for folder in (root / "cpu", root / "cpu,cpuacct", root):
            quota_text = _read_numbers(folder / "cpu.cfs_quota_us")
            period_text = _read_numbers(folder / "cpu.cfs_period_us")
            if quota_text and period_text:
                quota, period = quota_text[0], period_text[0]
                break
        else:
            return None
    try:
        quota_value, period_value = float(quota), float(period)
    except ValueError:  # "max", or a file we do not understand: no limit we can tell
        return None
    if quota_value <= 0 or period_value <= 0:
        return None
    return quota_value / period_value


def usable_cpus(cgroup_root: str | Path = CGROUP_ROOT) -> int:
    """The number of CPUs this process may actually use.

    The CPUs of its affinity mask (``os.sched_getaffinity``, where the platform has it),
    capped by the cgroup CPU quota rounded up (a quota of 1.5 CPUs gives 2); at least 1.

    Args:
        cgroup_root: where the cgroup files are (tests point it at a folder of their own).

    Example:
        >>> usable_cpus()  # under ``docker run --cpus 2`` on a 64-core machine
        2
    """
    cpus = _affinity()
    quota = _cgroup_quota(Path(cgroup_root))
    if quota is not None:
        cpus = min(cpus, math.ceil(quota))
    return max(1, cpus)


def _from_environment() -> int | None:
    text = os.environ.get(ENV_VARIABLE, "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(
            [
                Issue(
                    (),
                    f"must be a positive whole number of threads (got {text!r})",
                    Location(f"environment variable {ENV_VARIABLE}"),
                )
            ]
        )
    return value


def configure_threads(requested: int | None) -> tuple[int, str]:
    """Set torch's intra-op thread count, and say where the number came from.

    Args:
        requested: the config's ``Training.Threads`` (None: not set).

    Returns:
        The thread count and its origin: ``"NETCFG_THREADS"`` (the environment variable,
        which overrides everything), ``"Training.Threads"``, or ``"usable CPUs"``
        (`usable_cpus`; shared among the processes torchrun starts on this machine).
        An empty ``NETCFG_THREADS`` counts as unset.

    Raises:
        ConfigError: ``NETCFG_THREADS`` is not a positive integer (naming the variable).
    """
    from_env = _from_environment()
    if from_env is not None:
        count, origin = from_env, ENV_VARIABLE
    elif requested is not None:
        count, origin = requested, "Training.Threads"
    else:
        count, origin = usable_cpus(), "usable CPUs"
        processes = int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1)  # set by torchrun
        if processes > 1:
            count, origin = max(1, count // processes), f"usable CPUs / {processes} processes"
    torch.set_num_threads(count)
    return count, origin
