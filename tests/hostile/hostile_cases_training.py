"""Hostile values in the Training and Evaluation sections of a config given to ``netcfg
validate``. Each case changes one key of a valid network; the message names the file, its
line, the key and what is wrong."""

from __future__ import annotations

import re

from hostile_cases_config import config, validate
from hostile_corpus import Case

GE = "must be greater than or equal to "


def bad(id: str, key: str, value: object, message: str, at: str | None = None) -> Case:
    """``netcfg validate`` of the network with the dotted ``key`` set to ``value``: exit 2,
    ``c.json:1: KEY: MESSAGE`` (``at``: the key the message names, when another one)."""
    shown = at or re.sub(r"\.(\d+)", r"[\1]", key)
    return validate(id, config({key: value}), 2, f"c.json:1: {shown}: {message}")


TRAINING = [
    bad("epochs-zero", "Training.Epochs", 0, f"{GE}1 (got 0)"),
    bad(
        "training-batch-size-word",
        "Training.BatchSize",
        "big",
        'must be a valid integer (got "big")',
    ),
    bad(
        "optimizer-typo",
        "Training.Optimizer.Type",
        "Adma",
        "unknown Optimizer Type 'Adma'; did you mean 'Adam'?",
    ),
    bad(
        "optimizer-shorthand-typo",
        "Training.Optimizer",
        "Nesterof",
        "unknown Optimizer Type 'Nesterof'; did you mean 'Nesterov'?",
        at="Training.Optimizer.Type",
    ),
    bad(
        "optimizer-key-typo",
        "Training.Optimizer",
        {"Type": "Adam", "LearningRat": 0.1},
        "unknown key 'LearningRat'; did you mean 'LearningRate'?",
        at="Training.Optimizer.LearningRat",
    ),
    bad(
        "schedule-typo",
        "Training.Schedule.Type",
        "Cosin",
        "unknown Schedule Type 'Cosin'; did you mean 'Cosine'?",
    ),
    bad(
        "schedule-step-interval-zero",
        "Training.Schedule",
        {"Type": "Step", "Interval": 0},
        f"{GE}1 (got 0)",
        at="Training.Schedule.Interval",
    ),
    bad(
        "schedule-milestones-falling",
        "Training.Schedule",
        {"Type": "MultiStep", "Milestones": [5, 2]},
        "milestones must be strictly increasing epochs",
        at="Training.Schedule.Milestones",
    ),
    bad(
        "schedule-milestones-word",
        "Training.Schedule",
        {"Type": "MultiStep", "Milestones": "x"},
        'must be a valid tuple (got "x")',
        at="Training.Schedule.Milestones",
    ),
    bad(
        "device-tpu",
        "Training.Device",
        "tpu",
        "unknown Device 'tpu'; expected auto, cpu, cuda, cuda:N or mps",
    ),
    bad("device-number", "Training.Device", 0, "must be a valid string (got 0)"),
    bad(
        "precision-fp8",
        "Training.Precision",
        "fp8",
        "unknown Precision 'fp8'; expected one of fp32, bf16, fp16",
    ),
    bad("threads-zero", "Training.Threads", 0, f"{GE}1 (got 0)"),
    bad(
        "validation-fraction", "Training.Validation.Fraction", 1.5, "must be less than 1 (got 1.5)"
    ),
    bad(
        "validation-protocol-typo",
        "Training.Validation.Protocol",
        "PerUsr",
        "unknown Validation Protocol 'PerUsr'; did you mean 'PerUser'?",
    ),
    bad(
        "validation-shorthand-typo",
        "Training.Validation",
        "nope",
        "unknown Validation Protocol 'nope'; did you mean 'None'?",
        at="Training.Validation.Protocol",
    ),
    bad("patience-zero", "Training.EarlyStopping.Patience", 0, f"{GE}1 (got 0)"),
    bad(
        "early-stopping-metric",
        "Training.EarlyStopping.Metric",
        "Bogus",
        "unknown metric 'Bogus'; expected one of Loss, RMSE, MAE",
    ),
    bad("seed-negative", "Training.Seed", -1, f"{GE}0 (got -1)"),
    bad("gradient-clip-negative", "Training.GradientClipNorm", -1, f"{GE}0 (got -1)"),
    bad("refeed-negative", "Training.RefeedSteps", -1, f"{GE}0 (got -1)"),
    bad("checkpoint-interval-zero", "Training.CheckpointInterval", 0, f"{GE}1 (got 0)"),
    bad("training-list", "Training", [1], "must be an object (got [1])"),
    bad("training-null", "Training", None, "must be an object (got null)"),
    bad(
        "training-typo", "Trainig", {"Epochs": 1}, "unknown key 'Trainig'; did you mean 'Training'?"
    ),
]

EVALUATION = [
    bad("k-zero", "Evaluation.K", [0], "must be greater than 0 (got 0)", at="Evaluation.K[0]"),
    bad(
        "metric-cut-off-zero",
        "Evaluation.Metrics",
        ["NDCG@0"],
        "the cut-off of 'NDCG@0' must be a positive integer",
        at="Evaluation.Metrics[0]",
    ),
    bad(
        "metric-typo",
        "Evaluation.Metrics",
        ["RMES"],
        "unknown metric 'RMES'; did you mean 'RMSE'?",
        at="Evaluation.Metrics[0]",
    ),
    bad("metrics-number", "Evaluation.Metrics", 5, "must be a valid tuple (got 5)"),
    bad(
        "unseen-items-typo",
        "Evaluation.UnseenItems",
        "Drop2",
        "unknown UnseenItems 'Drop2'; did you mean 'Drop'?",
    ),
    bad("evaluation-batch-negative", "Evaluation.BatchSize", -1, f"{GE}1 (got -1)"),
    bad(
        "evaluation-key-typo",
        "Evaluation.Metric",
        ["RMSE"],
        "unknown key 'Metric'; did you mean 'Metrics'?",
    ),
    bad("evaluation-list", "Evaluation", ["RMSE"], 'must be an object (got ["RMSE"])'),
]

CASES = [*TRAINING, *EVALUATION]
