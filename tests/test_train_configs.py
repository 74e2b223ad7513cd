"""Named recipes, the learning-rate schedule, device-side augmentation and the terminal curves."""

from __future__ import annotations

import math

import pytest
import torch

from course_lib.train import CONFIGS, History, TrainConfig, get_config
from course_lib.train.configs import NULLABLE
from course_lib.train.augment import augment_batch
from course_lib.train.device import choose_device, precision_for
from course_lib.train.schedule import learning_rate
from course_lib.viz.curves import LiveCurves, plot_history


def test_lab_recipe_is_the_original_lab():
    lab = get_config("lab")
    assert (lab.size, lab.batch_size, lab.epochs, lab.lr, lab.norm) == (256, 16, 40, 3.3e-5, None)
    assert (lab.optimizer, lab.schedule, lab.validate_after_train_dice, lab.base) == ("adam", "constant", 0.92, 64)


def test_the_reference_recipe_is_the_one_the_benchmarks_measured_against():
    """Issue 5's straightforward recipe (benchmarks/RESULTS.md sections 3 and 4): its numbers are on record."""
    reference = get_config("reference")
    assert (reference.size, reference.base, reference.norm, reference.batch_size, reference.epochs) == (
        128, 16, None, 8, 30)
    assert (reference.optimizer, reference.lr, reference.schedule, reference.augment, reference.max_grad_norm) == (
        "adam", 1e-3, "constant", False, None)


def test_every_named_recipe_is_valid_and_overrides_apply():
    assert set(CONFIGS) == {"lab", "fast", "cpu", "reference", "quick"}
    changed = get_config("fast", epochs=3)
    assert changed.epochs == 3 and changed.lr == CONFIGS["fast"].lr and changed.name == "fast"
    assert TrainConfig.from_dict(changed.to_dict()) == changed


def test_a_none_override_means_none_wherever_none_is_a_setting():
    assert NULLABLE == {"norm", "validate_after_train_dice", "limit_images", "threads", "max_grad_norm"}
    for name, recipe in CONFIGS.items():
        everything_none = get_config(name, **dict.fromkeys(NULLABLE))
        assert all(getattr(everything_none, field) is None for field in NULLABLE), name
    cpu = CONFIGS["cpu"]
    assert (cpu.norm, cpu.max_grad_norm) == ("instance", 1.0), "the cpu recipe normalises and clips: None must change it"
    assert get_config("cpu", max_grad_norm=None).max_grad_norm is None
    assert get_config("cpu", norm=None).norm is None
    assert TrainConfig.from_dict(get_config("cpu", **dict.fromkeys(NULLABLE)).to_dict()).norm is None


@pytest.mark.parametrize("field", ["size", "epochs", "lr", "schedule", "augment", "seed", "precision"])
def test_a_none_override_where_none_means_nothing_is_refused_by_name(field):
    with pytest.raises(ValueError, match=f"TrainConfig.{field} cannot be None.*leave it out"):
        get_config("cpu", **{field: None})


@pytest.mark.parametrize("call, match", [
    (lambda: get_config("slow"), "unknown training configuration"),
    (lambda: get_config("quick", size=30), "multiple of 16"),
    (lambda: get_config("quick", schedule="step"), "schedule"),
    (lambda: get_config("quick", colour=1), "bad override"),
])
def test_bad_recipes_are_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_one_cycle_rises_then_falls_and_constant_is_flat():
    config = get_config("cpu", lr=1e-3, warmup_fraction=0.3)
    rates = [learning_rate(config, step, 100) for step in range(100)]
    peak = max(range(100), key=rates.__getitem__)
    assert rates[0] == pytest.approx(1e-3 / 25) and rates[-1] == pytest.approx(1e-3 / 1e4)
    assert 25 <= peak <= 35 and rates[peak] == pytest.approx(1e-3, rel=1e-2)
    assert all(learning_rate(get_config("lab"), s, 100) == 3.3e-5 for s in (0, 50, 99))


def test_augmentation_moves_image_and_mask_together_and_keeps_masks_binary():
    masks = torch.zeros(6, 1, 32, 32)
    masks[:, :, 8:20, 10:26] = 1.0
    images = masks.clone()
    warped_images, warped_masks = augment_batch(images, masks, torch.Generator().manual_seed(0))
    assert set(warped_masks.unique().tolist()) <= {0.0, 1.0}
    agreement = ((warped_images > 0.5).float() == warped_masks).float().mean()
    assert agreement > 0.97
    again = augment_batch(images, masks, torch.Generator().manual_seed(0))
    assert torch.equal(again[0], warped_images)
    assert not torch.equal(warped_masks, masks)


def test_flips_happen_only_when_asked_for():
    images = torch.arange(2 * 16 * 16, dtype=torch.float32).reshape(2, 1, 16, 16)
    masks = (images % 3 == 0).float()
    still = dict(max_rotation_deg=0.0, max_scale=0.0, max_shift=0.0)
    unflipped = augment_batch(images, masks, torch.Generator().manual_seed(1), **still)
    assert torch.allclose(unflipped[0], images) and torch.equal(unflipped[1], masks), "flip_probability=0 mirrored"
    flipped = augment_batch(images, masks, torch.Generator().manual_seed(1), flip_probability=1.0, **still)
    assert torch.allclose(flipped[0], images.flip(-1)) and torch.equal(flipped[1], masks.flip(-1))
    with pytest.raises(ValueError, match="flip_probability"):
        augment_batch(images, masks, torch.Generator(), flip_probability=1.5)


def test_no_recipe_flips_chest_x_rays_by_default():
    assert all(config.flip_probability == 0.0 for config in CONFIGS.values())
    assert get_config("fast").augment and get_config("fast", flip_probability=0.5).flip_probability == 0.5
    with pytest.raises(ValueError, match="flip_probability must be in"):
        get_config("fast", flip_probability=-0.1)


def test_cpu_device_is_named_with_the_colab_hint(capsys):
    device = choose_device("cpu")
    assert device.type == "cpu" and "CPU" in capsys.readouterr().out
    precision = precision_for(device, precision="fp32")  # auto's choice on a CPU: tests/test_train_precision.py
    assert precision.autocast_dtype is None and not precision.channels_last


def test_terminal_curves_print_one_line_per_epoch(capsys):
    history = History()
    curves = LiveCurves(total_epochs=2, notebook=False)
    for epoch in (1, 2):
        history.append(epoch=epoch, train_loss=0.5, train_dice=0.8, val_loss=float("nan") if epoch == 1 else 0.4,
                       val_dice=float("nan") if epoch == 1 else 0.85, lr=1e-3, seconds=1.0)
        curves.update(history)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "val skipped" in lines[0] and "dice 0.8500" in lines[1] and "epoch 2/2" in lines[1]
    figure = plot_history(history)
    assert len(figure.axes) == 2 and "best validation Dice 0.8500" in figure._suptitle.get_text()
    assert history.seconds_to_reach(0.85) == (2, 2.0) and math.isnan(History().best_val_dice)


def test_notebook_curves_reuse_one_figure_across_epochs(capsys):
    import matplotlib.pyplot as plt

    plt.close("all")
    history = History()
    curves = LiveCurves(notebook=True)
    figures = set()
    for epoch in (1, 2, 3):
        history.append(epoch=epoch, train_loss=0.5, train_dice=0.8, val_loss=0.4, val_dice=0.8 + epoch / 100,
                       lr=1e-3, seconds=1.0)
        curves.update(history)
        figures.add(id(curves._figure))
    assert len(figures) == 1 and plt.get_fignums() == [curves._figure.number]
    curves.close()
    assert plt.get_fignums() == []
