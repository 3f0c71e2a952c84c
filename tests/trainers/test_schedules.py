"""Learning-rate schedules, warm-up and DSSTNE's per-batch Decay, at chosen points."""

from __future__ import annotations

import math

import pytest

from netcfg.trainers.schedules import learning_rate
from netcfg.trainers.spec import TrainingSpec


def training(schedule, *, rate=0.8, epochs=10, optimizer="SGD"):
    return TrainingSpec(
        Optimizer={"Type": optimizer, "LearningRate": rate}, Schedule=schedule, Epochs=epochs
    )


def rate_at(spec, epoch, global_step=0, decay=0.0):
    return learning_rate(spec, epoch=epoch, global_step=global_step, decay=decay)


@pytest.mark.parametrize("epoch", [0.0, 0.5, 3.0, 9.99, 12.0])
def test_constant_is_the_optimizer_rate(epoch):
    assert rate_at(training("Constant"), epoch) == 0.8
    assert rate_at(training("Constant", optimizer="AdaDelta", rate=1.0), epoch) == 1.0


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [(0.0, 0.8), (2.99, 0.8), (3.0, 0.4), (5.5, 0.4), (6.0, 0.2), (9.5, 0.1)],
)
def test_step_multiplies_every_interval(epoch, expected):
    spec = training({"Type": "Step", "Interval": 3, "Multiplier": 0.5})
    assert rate_at(spec, epoch) == pytest.approx(expected, rel=1e-12)


def test_step_as_dsstne_cifar10_command_file_and_defaults():
    # samples/cifar-10/train.cdl: Alpha 0.025 (here 0.8) times 0.8 every 20 epochs.
    spec = training({"Type": "Step", "Interval": 20, "Multiplier": 0.8}, epochs=60)
    assert rate_at(spec, 19.9) == pytest.approx(0.8)
    assert rate_at(spec, 20.0) == pytest.approx(0.8 * 0.8)
    assert rate_at(spec, 45.0) == pytest.approx(0.8 * 0.8 * 0.8)
    default = training("Step", epochs=60)  # Interval 20, Multiplier 0.5
    assert rate_at(default, 40.0) == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [(0.0, 1.0), (1.9, 1.0), (2.0, 0.1), (4.99, 0.1), (5.0, 0.01), (5.5, 0.01), (9.0, 0.01)],
)
def test_multistep_decays_from_each_milestone_on(epoch, expected):
    spec = training({"Type": "MultiStep", "Milestones": [5, 2], "Multiplier": 0.1}, rate=1.0)
    assert rate_at(spec, epoch) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("epoch", [0.0, 2.5, 5.0, 7.5, 10.0])
def test_cosine_anneals_to_the_minimum(epoch):
    spec = training({"Type": "Cosine", "MinLearningRate": 0.1}, rate=0.9, epochs=10)
    expected = 0.1 + 0.8 * (1 + math.cos(math.pi * epoch / 10)) / 2
    assert rate_at(spec, epoch) == pytest.approx(expected, rel=1e-12)
    assert rate_at(spec, 0.0) == pytest.approx(0.9)
    assert rate_at(spec, 5.0) == pytest.approx(0.5)
    assert rate_at(spec, 10.0) == pytest.approx(0.1)


def test_cosine_stays_at_the_minimum_after_the_last_epoch():
    spec = training({"Type": "Cosine", "MinLearningRate": 0.1}, rate=0.9, epochs=10)
    assert rate_at(spec, 12.0) == pytest.approx(0.1)


@pytest.mark.parametrize(("epoch", "factor"), [(0.0, 0.0), (0.5, 0.25), (1.0, 0.5), (2.0, 1.0)])
def test_warmup_is_linear_from_zero(epoch, factor):
    spec = training({"Type": "Constant", "WarmupEpochs": 2})
    assert rate_at(spec, epoch) == pytest.approx(0.8 * factor, abs=1e-15)
    assert rate_at(spec, 3.5) == 0.8


def test_decay_divides_by_one_plus_decay_times_batches():
    spec = training("Constant")
    assert rate_at(spec, 0.0, global_step=0, decay=0.01) == 0.8
    assert rate_at(spec, 1.0, global_step=100, decay=0.01) == pytest.approx(0.4)
    assert rate_at(spec, 1.0, global_step=300, decay=0.01) == pytest.approx(0.2)
    assert rate_at(spec, 1.0, global_step=300) == 0.8


def test_warmup_step_schedule_and_decay_combine():
    spec = training({"Type": "Step", "Interval": 2, "Multiplier": 0.5, "WarmupEpochs": 4})
    # Epoch 3: one decay (0.4), three quarters through warm-up (0.3), 50 steps at 0.02.
    assert rate_at(spec, 3.0, global_step=50, decay=0.02) == pytest.approx(0.8 * 0.5 * 0.75 / 2)
    # After warm-up: two decays, no warm-up factor.
    assert rate_at(spec, 4.0, global_step=50, decay=0.02) == pytest.approx(0.8 * 0.25 / 2)


def test_warmup_cosine_and_decay_combine():
    spec = training(
        {"Type": "Cosine", "MinLearningRate": 0.0, "WarmupEpochs": 1}, rate=1.0, epochs=4
    )
    expected = (1 + math.cos(math.pi * 0.5 / 4)) / 2 * 0.5 / (1 + 0.1 * 10)
    assert rate_at(spec, 0.5, global_step=10, decay=0.1) == pytest.approx(expected, rel=1e-12)


def test_negative_arguments_are_refused():
    with pytest.raises(ValueError, match="must not be negative"):
        rate_at(training("Constant"), -1.0)
    with pytest.raises(ValueError, match="must not be negative"):
        rate_at(training("Constant"), 0.0, decay=-0.1)
