"""Hostile layers and network-level keys of a config given to ``netcfg validate``: the
Layers list, each layer's keys, and the keys beside Layers. Each case changes one key of a
valid network; the message names the file, its line, the key and what is wrong."""

from __future__ import annotations

from hostile_cases_config import NETWORK
from hostile_cases_training import GE, bad

INT_OR_AUTO = 'must be a positive integer, a list of 1 to 4 positive integers, or "auto"'

LAYERS = [
    bad("layers-string", "Layers", "In,H,Out", 'must be a valid list (got "In,H,Out")'),
    bad("layers-null", "Layers", None, "must be a valid list (got null)"),
    bad("layers-empty", "Layers", [], "the network has no Input layer"),
    bad("layers-numbers", "Layers", [1, 2], "must be an object (got 2)", at="Layers[1]"),
    bad(
        "layers-no-output",
        "Layers",
        NETWORK["Layers"][:2],
        "Output layer 'H' needs a DataSet",
        at="Layers[1]",
    ),
    bad(
        "layer-name-empty",
        "Layers.1.Name",
        "",
        "layer names must be non-empty and may not contain '.' (got \"\")",
    ),
    bad(
        "layer-name-dotted",
        "Layers.1.Name",
        "H.1",
        "layer names must be non-empty and may not contain '.' (got \"H.1\")",
    ),
    bad("layer-name-number", "Layers.1.Name", 7, "must be a valid string (got 7)"),
    bad("layer-n-zero", "Layers.1.N", 0, f"{INT_OR_AUTO} (got 0)"),
    bad(
        "layer-kind-typo", "Layers.1.Kind", "Hiden", "unknown Kind 'Hiden'; did you mean 'Hidden'?"
    ),
    bad("layer-source-itself", "Layers.1.Source", ["H"], "layer 'H' cannot name itself in Source"),
    bad(
        "layer-skip-unknown",
        "Layers.2.Skip",
        ["Nope"],
        "layer 'Out': Skip 'Nope' is not a layer; layers are In, H, Out",
    ),
    bad("layer-skip-itself", "Layers.2.Skip", ["Out"], "layer 'Out' cannot name itself in Skip"),
    bad(
        "layer-weight-init-typo",
        "Layers.1.WeightInit.Scheme",
        "Xaviar",
        "unknown WeightInit Scheme 'Xaviar'; did you mean 'Xavier'?",
    ),
    bad(
        "layer-shared-weights-unknown",
        "Layers.2.SharedWeights",
        [{"SourceInputLayer": "Nope", "SourceOutputLayer": "H"}],
        "layer 'Out': 'Nope' is not a source of 'H'",
        at="Layers[2].SharedWeights[0].SourceInputLayer",
    ),
    bad("layer-pdropout-negative", "Layers.1.pDropout", -0.1, f"{GE}0 (got -0.1)"),
    bad("layer-dataset-number", "Layers.0.DataSet", 5, "must be a valid string (got 5)"),
    bad(
        "layer-activation-number",
        "Layers.1.Activation",
        3,
        "Activation must be a string, one of Sigmoid, Tanh",
    ),
    bad(
        "layer-dropout-type",
        "Layers.1.DropoutType",
        "Gauss",
        "unknown DropoutType 'Gauss'; expected one of Auto, Standard, Alpha",
    ),
    bad("denoising-one", "Denoising.p", 1.0, "must be less than 1 (got 1.0)"),
    bad(
        "network-kind-typo",
        "Kind",
        "AutoEncodr",
        "unknown network Kind 'AutoEncodr'; did you mean 'AutoEncoder'?",
    ),
    bad(
        "network-kind-ensemble",  # an ensemble has members, not layers
        "Kind",
        "Ensemble",
        "unknown key 'Layers'; expected one of Kind, Name, Members, Evaluation, Search",
        at="Layers",
    ),
    bad("version-word", "Version", "latest", 'must be a valid number (got "latest")'),
    bad(
        "error-function-number", "ErrorFunction", 1, "ErrorFunction must be a string, one of L1, L2"
    ),
    bad("decay-negative", "Decay", -1, f"{GE}0 (got -1)"),
    bad("name-list", "Name", ["a"], 'must be a valid string (got ["a"])'),
]

CASES = LAYERS
