"""Item tables (``Network.row_tables``), the choice of what ``Training.Distributed.Shard``
splits, and its errors; the split runs themselves are in test_distributed.py and
test_distributed_resume.py."""

from __future__ import annotations

import copy
import json

import pytest
import torch
from helpers import TINY, write

from netcfg import load_config
from netcfg.cli import main
from netcfg.config import validate_config
from netcfg.data.batch import SparseBatch
from netcfg.errors import ConfigError
from netcfg.layers.compute import ComputeMode, use_dense
from netcfg.networks.compile import compile_network
from netcfg.trainers.sharding import row_bounds, tables_to_shard


def _network(config: dict, width: int = 50):
    spec = validate_config(config)
    return spec, compile_network(spec, dict.fromkeys(spec.input_datasets(), width))


def _tiny(**training) -> dict:
    config = copy.deepcopy(TINY)
    config["Training"].update(training)
    return config


@pytest.mark.parametrize("rows", [0, 1, 7, 8, 9, 1000, 1001])
@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_rows_are_split_as_torch_chunk_splits_them(rows, size):
    bounds = row_bounds(rows, size)
    pieces = [len(p) for p in torch.arange(rows).chunk(size)] if rows else []
    sizes = [b - a for a, b in zip(bounds, bounds[1:], strict=False)]
    assert bounds[0] == 0 and bounds[-1] == rows
    assert [s for s in sizes if s] == pieces


def test_an_autoencoder_has_its_projections_and_output_bias_as_tables():
    _, network = _network(TINY)
    assert network.row_tables() == {
        "layers.Hidden.projections.0.weight": "ratings",
        "layers.Output.projections.0.weight": "ratings",
        "layers.Output.bias": "ratings",
    }
    shapes = {n: p.shape for n, p in network.named_parameters()}
    assert shapes["layers.Hidden.projections.0.weight"] == (50, 16)  # one row per item
    assert shapes["layers.Output.projections.0.weight"] == (50, 16)


def test_a_tied_decoder_shares_the_encoder_table():
    config = copy.deepcopy(TINY)
    config["Layers"][2]["SharedWeights"] = {
        "SourceInputLayer": "Input",
        "SourceOutputLayer": "Hidden",
        "Transposed": True,
    }
    _, network = _network(config)
    assert network.row_tables() == {
        "layers.Hidden.projections.0.weight": "ratings",
        "layers.Output.bias": "ratings",
    }


def test_an_output_computed_over_every_item_leaves_its_dataset_without_tables():
    config = copy.deepcopy(TINY)
    config["Layers"][2]["Compute"] = "Dense"  # every output unit: every row is read
    _, network = _network(config)
    assert network.row_tables() == {}


def test_a_baseline_adds_its_column_bias_and_indicators_take_the_tables_away():
    config = copy.deepcopy(TINY)
    config["Baseline"] = {}
    _, network = _network(config)
    assert network.row_tables()["baseline.bias"] == "ratings"
    config["Baseline"] = {"Indicators": True}  # the input projection has 2 rows per item
    _, network = _network(config)
    assert network.row_tables() == {}


def test_auto_shards_the_weights_and_names_shard_their_layers_weights():
    spec, network = _network(_tiny(Distributed={"Shard": "Auto"}))
    assert tables_to_shard(spec.Training.Distributed, network) == [
        "layers.Hidden.projections.0.weight",
        "layers.Output.projections.0.weight",
    ]
    spec, network = _network(_tiny(Distributed={"Shard": ["Output"]}))
    assert tables_to_shard(spec.Training.Distributed, network) == [
        "layers.Output.projections.0.weight"
    ]
    spec, network = _network(TINY)
    assert tables_to_shard(spec.Training.Distributed, network) == []


def test_a_layer_without_a_table_is_refused_where_shard_names_it():
    spec, network = _network(_tiny(Distributed={"Shard": ["Output", "Input"]}))
    with pytest.raises(ConfigError) as caught:
        tables_to_shard(spec.Training.Distributed, network)
    (issue,) = caught.value.issues
    assert issue.path == ("Training", "Distributed", "Shard", 1)
    assert "layer 'Input' has no weight stored one row per item" in issue.message


def test_auto_on_a_network_without_tables_says_what_can_be_split():
    config = _tiny(Distributed={"Shard": "Auto"})
    config["Layers"][2]["Compute"] = "Dense"
    spec, network = _network(config)
    with pytest.raises(ConfigError, match="no weight to split; splittable are the projection"):
        tables_to_shard(spec.Training.Distributed, network)


def test_unknown_layer_names_and_re_feeding_are_config_errors(tmp_path):
    config = _tiny(Distributed={"Shard": ["Outptu"]}, RefeedSteps=1)
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, "model.json", json.dumps(config)))
    messages = {issue.path: issue.message for issue in caught.value.issues}
    assert "did you mean 'Output'" in messages[("Training", "Distributed", "Shard", 0)]
    assert "re-feeding reads every row" in messages[("Training", "Distributed", "Shard")]


def test_validate_checks_what_shard_names(tmp_path, capsys):
    config = _tiny(Distributed={"Shard": ["Input"]})
    path = write(tmp_path, "model.json", json.dumps(config))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Training.Distributed.Shard[0]" in err and "layer 'Input' has no weight" in err


def test_a_renumbered_batch_is_as_dense_as_its_catalogue_batch():
    dense = torch.zeros(4, 100)
    dense[0, [3, 50]] = 1.0
    dense[2, [50, 99, 7]] = 2.0
    batch = SparseBatch.from_dense(dense)
    columns = torch.unique(batch.indices)
    compact = batch.renumbered(columns)
    assert compact.num_columns == 4 and compact.catalogue == 100
    assert compact.density == batch.density == 5 / 400
    assert use_dense(compact, ComputeMode.Auto) is use_dense(batch, ComputeMode.Auto) is False
    weight = torch.randn(100, 3)
    torch.testing.assert_close(compact.to_dense() @ weight[columns], dense @ weight)
    assert compact.with_values(compact.values * 2).catalogue == 100
