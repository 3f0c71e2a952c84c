"""The identity of rows as data (``Identity: true``): one 1 per row, at the row's own column."""

from __future__ import annotations

import numpy as np
import torch
from helpers import write

from netcfg.config import validate_config
from netcfg.data.identity import identity_matrix
from netcfg.data.importer import import_file
from netcfg.data.loader import RowLoader
from netcfg.data.source import open_source
from netcfg.data.spec import DATA_KEY_GROUPS, DataSourceSpec
from netcfg.layers.projection import Projection
from netcfg.trainers.bindings import bind_data

RATINGS = "1\t10\t5\t1\n1\t20\t3\t2\n2\t10\t4\t3\n3\t30\t1\t4\n2\t30\t2\t5\n7\t20\t4\t6\n"


def test_identity_matrix_is_the_identity_over_the_rows(tmp_path):
    matrix = import_file(write(tmp_path, "r.tsv", RATINGS))
    identity = identity_matrix(matrix)
    dense = np.zeros(identity.shape)
    dense[identity.row_of_entries(), identity.indices] = identity.values_or_ones()
    np.testing.assert_array_equal(dense, np.eye(4))
    assert identity.rows == matrix.rows and identity.columns == matrix.rows
    assert identity.values is None and identity.orientation == "user"


def test_every_part_of_a_split_source_is_the_identity_of_its_rows(tmp_path):
    path = str(write(tmp_path, "r.tsv", RATINGS))
    protocol = {"Type": "random", "Fractions": [0.5, 0.0, 0.5], "Seed": 3}
    ratings = open_source(DataSourceSpec(Path=path, Protocol=protocol))
    users = open_source(DataSourceSpec(Path=path, Protocol=protocol, Identity=True))
    assert set(users.parts) == set(ratings.parts) == {"train", "test"}
    for part in users.parts.values():
        assert part.shape == (4, 4) and part.rows == ratings.train.rows
        assert part.indices.tolist() == [0, 1, 2, 3] and part.row_counts().tolist() == [1] * 4


def test_item_orientation_gives_the_items_identity(tmp_path):
    path = str(write(tmp_path, "r.tsv", RATINGS))
    items = open_source(DataSourceSpec(Path=path, Orientation="Item", Identity=True)).train
    assert items.shape == (3, 3) and items.rows.ids.tolist() == [10, 20, 30]
    assert items.orientation == "item"


def test_an_input_on_the_identity_looks_up_each_rows_weight_row(tmp_path):
    """The loader serves the same rows of both DataSets, so batch row b of ``user`` holds
    a 1 at column ``rows[b]`` and a layer on it reads weight row ``rows[b]`` (dense
    one-hot reference)."""
    path = str(write(tmp_path, "r.tsv", RATINGS))
    spec = validate_config(
        {
            "ErrorFunction": "MaskedMSE",
            "Layers": [
                {"Name": "User", "Kind": "Input", "N": "auto", "DataSet": "user", "Sparse": True},
                {"Name": "F", "Source": "User", "N": 2, "Activation": "Linear"},
                {"Name": "Out", "Kind": "Output", "N": "auto", "DataSet": "ratings"},
            ],
            "Data": {"ratings": path, "user": {"Path": path, "Identity": True}},
            "Training": {"Validation": "None"},
        }
    )
    data = bind_data(spec, spec.input_datasets(), spec.target_datasets())
    assert data.widths() == {"ratings": 3, "user": 4}
    loader = RowLoader(data.train(), batch_size=3, seed=5)
    order = loader.order()
    weight = torch.arange(8.0).view(4, 2)
    projection = Projection(4, 2)
    with torch.no_grad():
        projection.weight.copy_(weight)
    seen = []
    for number, batch in enumerate(loader):
        rows = order[number * 3 : (number + 1) * 3]
        assert batch["user"].indices.tolist() == rows.tolist()
        ratings = batch["ratings"].to_dense()
        expected = data.train()["ratings"].batch(rows).to_dense()
        torch.testing.assert_close(ratings, expected)
        one_hot = torch.from_numpy(np.eye(4, dtype=np.float32)[rows])
        torch.testing.assert_close(projection(batch["user"]), one_hot @ weight)
        seen += rows.tolist()
    assert sorted(seen) == [0, 1, 2, 3]


def test_identity_is_a_treatment_that_a_new_source_keeps(tmp_path):
    assert "Identity" in DATA_KEY_GROUPS["treatment"]
    path = str(write(tmp_path, "r.tsv", RATINGS))
    spec = validate_config(
        {
            "Layers": [
                {"Name": "User", "Kind": "Input", "N": "auto", "DataSet": "user", "Sparse": True},
                {"Name": "Out", "Kind": "Output", "N": "auto", "DataSet": "ratings"},
            ],
            "Data": {"ratings": "a.tsv", "user": {"Path": "a.tsv", "Identity": True}},
        },
        bind=[f"user={path}"],
    )
    assert spec.Data["user"].Identity and spec.Data["user"].Path == path
