"""``Extends``: deep merge, layers merged by Name, tag changes, cycles, zoo references."""

from __future__ import annotations

import pytest
from helpers import EXAMPLES, write

from netcfg import ConfigError, load_config
from netcfg.trainers.optimizer_spec import MomentumSpec, SGDSpec

BASE = """
Name: base
ErrorFunction: L2
Training: {Optimizer: {Type: Momentum, LearningRate: 0.1, Mu: 0.5}, Epochs: 3}
Layers:
  - {Name: In, N: 10, DataSet: d}
  - {Name: H, N: 4, Activation: Tanh}
  - {Name: Out, N: 10, DataSet: d}
"""


def test_deep_merge_and_layers_by_name(tmp_path):
    write(tmp_path, "base.yaml", BASE)
    child = write(
        tmp_path,
        "child.yaml",
        """
Extends: base.yaml
Training: {Optimizer: {LearningRate: 0.2}}
Layers:
  - {Name: H, N: 8}
  - {Name: H2, N: 6}
""",
    )
    spec = load_config(child)
    assert spec.Name == "base" and spec.Training.Epochs == 3
    optimizer = spec.Training.Optimizer
    assert isinstance(optimizer, MomentumSpec) and (optimizer.LearningRate, optimizer.Mu) == (
        0.2,
        0.5,
    )
    assert [layer.Name for layer in spec.Layers] == ["In", "H", "H2", "Out"]
    assert spec.layer("H").N == 8 and spec.layer("H").Activation.value == "Tanh"
    assert spec.layer("H2").Source == ("H",) and spec.layer("Out").Source == ("H2",)


def test_a_new_tag_replaces_the_object(tmp_path):
    write(tmp_path, "base.yaml", BASE)
    child = write(tmp_path, "child.yaml", "Extends: base.yaml\nTraining: {Optimizer: SGD}\n")
    optimizer = load_config(child).Training.Optimizer
    assert isinstance(optimizer, SGDSpec) and optimizer.LearningRate == 0.025


def test_chains_and_cycles(tmp_path):
    write(tmp_path, "a.yaml", "Extends: b.yaml\nName: a\n")
    write(tmp_path, "b.yaml", "Extends: a.yaml\nName: b\n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "a.yaml")
    assert [i.message for i in err.value.issues] == [
        "Extends forms a cycle: a.yaml -> b.yaml -> a.yaml"
    ]


def test_missing_base_is_located(tmp_path):
    child = write(tmp_path, "child.yaml", "Name: c\nExtends: nowhere.yaml\n")
    with pytest.raises(ConfigError) as err:
        load_config(child)
    assert [str(i) for i in err.value.issues] == [
        f"{child}:2: Extends: cannot extend 'nowhere.yaml': no such config file"
    ]


def test_problems_in_the_base_are_reported_in_the_base(tmp_path):
    base = write(tmp_path, "base.yaml", BASE.replace("Activation: Tanh", "Activaton: Tanh"))
    child = write(tmp_path, "child.yaml", "Extends: base.yaml\n")
    with pytest.raises(ConfigError) as err:
        load_config(child)
    assert [str(i) for i in err.value.issues] == [
        f"{base}:7: Layers[1].Activaton: unknown key 'Activaton'; did you mean 'Activation'?"
    ]


def test_zoo_reference(tmp_path, monkeypatch):
    entry = tmp_path / "zoo" / "tiny"
    entry.mkdir(parents=True)
    write(entry, "model.yaml", BASE)
    monkeypatch.setattr("netcfg.zoo.zoo_root", lambda: tmp_path / "zoo")
    child = write(tmp_path, "child.yaml", "Extends: zoo:tiny\nName: from zoo\n")
    spec = load_config(child)
    assert spec.Name == "from zoo" and spec.layer("H").N == 4
    bad = write(tmp_path, "bad.yaml", "Extends: zoo:tiyn\n")
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    assert err.value.issues[0].message == (
        "cannot extend 'zoo:tiyn': no zoo entry 'tiyn'; did you mean 'tiny'?"
    )


def test_tied_deeprec_extends_the_untied_one():
    tied = load_config(EXAMPLES / "deeprec-netflix-full-tied.yaml")
    untied = load_config(EXAMPLES / "deeprec-netflix-full.yaml")
    assert [layer.Name for layer in tied.Layers] == [layer.Name for layer in untied.Layers]
    assert tied.layer("Output").SharedWeights[0].SourceOutputLayer == "Encoder1"
    assert tied.layer("Code").pDropout == 0.8 and tied.Training == untied.Training
