"""The lines a run prints about its data: how the epoch is chosen, and the held-out
entries that training cannot place."""

from __future__ import annotations

from netcfg.networks.spec import ModelSpec
from netcfg.trainers.bindings import RunData
from netcfg.trainers.loop import Monitor
from netcfg.trainers.spec import HoldoutProtocol

__all__ = ["data_notes", "unseen_note"]


def data_notes(spec: ModelSpec, run_data: RunData, monitor: Monitor | None) -> list[str]:
    """One line on how the epoch is chosen: the held-out validation part, or a warning
    that the last epoch is kept."""
    if monitor is None:
        if spec.Training.Validation.Protocol is HoldoutProtocol.none:
            why = "Training.Validation is None; hold one out with Training.Validation=PerUser"
        else:
            why = (
                "none could be held out of the training part: no row has two interactions "
                "(one label per example?); give a Validation file or a Protocol in Data"
            )
        return [
            "netcfg: warning: no validation part, so the last epoch is kept and nothing "
            f"stops early ({why})"
        ]
    held = run_data.held_out()
    stopping = spec.Training.EarlyStopping
    how = (
        f"early stopping after {stopping.Patience} epochs without improvement"
        if stopping is not None
        else "no early stopping"
    )
    if held is None:
        return [f"validation: the data's validation part picks the epoch by {monitor.name}; {how}"]
    share = f"{held['fraction']:.0%} of " + (
        "each user's" if held["protocol"] == "per-user" else "the"
    )
    return [
        f"validation: held out {share} training interactions ({held['entries']:,} entries, "
        f"seed {held['seed']}) to pick the epoch by {monitor.name}; {how} "
        "(Training.Validation, Training.EarlyStopping)"
    ]


def unseen_note(part: str, counts: dict, implicit: bool) -> str:
    """The line that says how many held-out entries training could not place."""
    entries = counts["entries"]
    if counts["policy"] == "Drop":
        return f"{part}: {entries:,} entries with a user or item unseen in training were dropped"
    if implicit:
        treated = f"{counts['ranked_as_misses']:,} counted as misses"
        cold = entries - counts["ranked_as_misses"]
        if cold:
            treated += f", {cold:,} of users without history not ranked"
    else:
        treated = "rated with the user's training mean (else the global mean)"
    return (
        f"{part}: {entries:,} entries with a user or item unseen in training: {treated} "
        "(Evaluation.UnseenItems: Drop leaves them out)"
    )
