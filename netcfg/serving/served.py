"""A model as the server holds it: loaded once per worker, never written to.

Loading does what ``netcfg predict`` does before its first batch, once: open the model
(`inference.models.open_model`), put the interactions it was trained on in its terms
(`inference.recommend.model_rows`: the known users' input rows), and read what
``predict --pairs`` scores from (`inference.pairs.pair_inputs`). Requests then only look
rows up.
"""

from __future__ import annotations

from dataclasses import dataclass

from netcfg import __version__
from netcfg.data.interactions import Interactions
from netcfg.inference.align import align_columns
from netcfg.inference.models import open_model, training_interactions
from netcfg.inference.pairs import pair_inputs
from netcfg.inference.ranking import Layers, autoencoder_layers
from netcfg.inference.recommend import ModelRows, model_rows
from netcfg.trainers.rundir import LoadedModel

__all__ = ["ServedModel", "load_served_model"]


@dataclass(frozen=True)
class ServedModel:
    """A trained model ready to answer requests.

    Attributes:
        name: its name in requests (``"model": NAME``).
        reference: the run directory or ``zoo:NAME`` it was loaded from.
        model: the network (eval mode, no gradients), spec, ``run.json`` and ids.
        layers: its `inference.ranking.autoencoder_layers`.
        rows: the known users' training interactions in the model's terms.
        pair_rows: the rows ``predict --pairs`` reads, aligned to the model's columns.
        clip: the range ratings are clipped to, or None.
    """

    name: str
    reference: str
    model: LoadedModel
    layers: Layers
    rows: ModelRows
    pair_rows: Interactions
    clip: tuple[float, float] | None

    @property
    def orientation(self) -> str:
        """``user`` (folds new users in) or ``item`` (I-AutoRec: known users only)."""
        return self.layers[2]

    @property
    def item_count(self) -> int:
        """The catalogue size."""
        return len(self.rows.item_ids)

    def info(self, default: bool) -> dict:
        """What ``GET /models`` says of this model."""
        run = self.model.run
        dataset = self.layers[0]
        data = run["datasets"][dataset]
        rows, columns = data["shape"]
        users, items = (rows, columns) if self.orientation == "user" else (columns, rows)
        return {
            "name": self.name,
            "default": default,
            "model": self.reference,
            "task": "ratings" if data.get("values") == "explicit" else "ranking",
            "values": data.get("values"),
            "orientation": self.orientation,
            "users": users,
            "items": items,
            "new_users": self.orientation == "user",
            "status": run.get("status"),
            "best_epoch": run.get("best_epoch"),
            "created": run.get("created"),
            "metrics": {part: run[part] for part in ("validation", "test") if part in run},
            "trained_with": run.get("netcfg"),
            "netcfg": __version__,
        }


def load_served_model(name: str, reference: str) -> ServedModel:
    """Load a model and everything requests will read, once.

    Raises:
        ModelError: no such model, an ensemble, or not an autoencoder.
        DataError: the data it was trained on cannot be opened (known users are ranked
            from it).
    """
    model = open_model(reference)
    layers = autoencoder_layers(model)
    for parameter in model.network.parameters():
        parameter.requires_grad_(False)
    rows = model_rows(model, training_interactions(model))
    pair_rows, clip = pair_inputs(model)
    if pair_rows.orientation != layers[2]:
        pair_rows = pair_rows.transpose()
    pair_rows = align_columns(pair_rows, model.ids[layers[0]][1]).matrix
    if len(rows.matrix.rows):  # build the id lookups now, not in the first request
        rows.matrix.rows.position(rows.matrix.rows.ids[0])
        rows.item_ids.position(rows.item_ids.ids[0])
        pair_rows.rows.position(pair_rows.rows.ids[0])
        pair_rows.columns.position(pair_rows.columns.ids[0])
    return ServedModel(name, str(reference), model, layers, rows, pair_rows, clip)
