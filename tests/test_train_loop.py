"""fit / evaluate on a tiny model and synthetic discs: reproducibility, exact resume, checkpoints, validation gate."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from course_lib.train import History, TrainingCollapsedWarning, evaluate, fit, get_config, load_checkpoint
from course_lib.train.checkpoint import BEST, LAST, PREVIOUS

TINY = dict(size=32, base=4, batch_size=4, epochs=3, lr=1e-2, limit_images=None, eval_batch_size=4)


def disc_arrays(n: int, size: int = 32, seed: int = 0) -> dict:
    """Noisy images of one bright disc each; the label is the disc."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    images, labels = [], []
    for _ in range(n):
        cy, cx = rng.uniform(size * 0.3, size * 0.7, 2)
        radius = rng.uniform(size * 0.15, size * 0.3)
        mask = ((yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2).astype(np.float32)
        images.append(np.clip(0.6 * mask + 0.2 + rng.normal(0, 0.05, mask.shape), 0, 1).astype(np.float32))
        labels.append(mask)
    return {"images": np.stack(images), "labels": np.stack(labels), "names": [f"case_{i:02d}" for i in range(n)]}


def tiny_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 1, 3, padding=1))


@pytest.fixture(scope="module")
def data() -> tuple[dict, dict]:
    return disc_arrays(12, seed=1), disc_arrays(6, seed=2)


def run(data, out_dir=None, callbacks=(), resume=False, model=None, **overrides) -> tuple[History, nn.Module]:
    model = model if model is not None else tiny_model()
    config = get_config("quick", **{**TINY, **overrides})
    history = fit(model, *data, config=config, out_dir=out_dir, resume=resume, device="cpu", progress=False,
                  callbacks=callbacks)
    return history, model


def test_history_records_every_epoch_and_learning_happens(data):
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingCollapsedWarning)  # a learning network is never called collapsed
        history, _ = run(data, epochs=4)
    assert history.epoch == [1, 2, 3, 4]
    assert all(len(getattr(history, name)) == 4 for name in History.columns())
    assert all(0.0 <= d <= 1.0 for d in history.train_dice + history.val_dice)
    assert history.train_loss[-1] < history.train_loss[0], history.train_loss
    assert history.best_epoch is not None and history.best_val_dice == max(history.val_dice)


def test_two_cpu_runs_from_the_same_seed_give_identical_history(data):
    first, first_model = run(data, augment=True)
    second, second_model = run(data, augment=True)
    assert first.same_curves(second), (first, second)
    for a, b in zip(first_model.state_dict().values(), second_model.state_dict().values()):
        assert torch.equal(a, b)


def test_interrupted_then_resumed_run_matches_an_uninterrupted_one(data, tmp_path):
    straight, straight_model = run(data, out_dir=tmp_path / "straight", epochs=4, augment=True)

    class Interrupt(Exception):
        pass

    def stop_after_two(epoch: int, history: History) -> None:
        if epoch == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        run(data, out_dir=tmp_path / "broken", epochs=4, augment=True, callbacks=[stop_after_two])
    assert load_checkpoint(tmp_path / "broken" / LAST)["epoch"] == 2
    resumed, resumed_model = run(data, out_dir=tmp_path / "broken", epochs=4, augment=True, resume=True,
                                 model=tiny_model(seed=123))  # different init: everything must come from the file
    assert resumed.same_curves(straight), (resumed, straight)
    for a, b in zip(straight_model.state_dict().values(), resumed_model.state_dict().values()):
        assert torch.equal(a, b)


def test_resume_falls_back_to_the_previous_checkpoint_when_the_last_is_truncated(data, tmp_path):
    original, _ = run(data, out_dir=tmp_path, epochs=3)
    last = tmp_path / LAST
    last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])
    with pytest.warns(UserWarning, match=str(last)):
        resumed, _ = run(data, out_dir=tmp_path, epochs=3, resume=True, model=tiny_model(seed=5))
    # previous.pt held epoch 2, so epoch 3 was trained again, and came out the same
    assert resumed.same_curves(original), (resumed, original)


def test_resume_refuses_a_changed_configuration(data, tmp_path):
    run(data, out_dir=tmp_path, epochs=1)
    with pytest.raises(ValueError, match="lr"):
        run(data, out_dir=tmp_path, epochs=1, lr=0.5, resume=True)
    history, _ = run(data, out_dir=tmp_path, epochs=1, threads=2, resume=True)  # a thread count is no new recipe
    assert len(history) == 1


def test_checkpoints_hold_only_safe_types_and_best_is_kept(data, tmp_path):
    history, model = run(data, out_dir=tmp_path, epochs=3)
    for name in (LAST, PREVIOUS, BEST):
        assert (tmp_path / name).is_file(), name
    state = torch.load(tmp_path / LAST, weights_only=True)  # a plain safe load works on our files too
    assert state["epoch"] == 3 and state["history"]["epoch"] == [1, 2, 3]
    assert set(state) >= {"model", "optimizer", "scaler", "history", "config", "rng", "epoch"}
    best = load_checkpoint(tmp_path / BEST)
    assert best["epoch"] == history.best_epoch and best["val_dice"] == pytest.approx(history.best_val_dice)
    for key, value in best["model"].items():  # restore_best put the best weights back into the model
        assert torch.equal(model.state_dict()[key], value), key


def test_validation_waits_for_the_training_dice_gate(data):
    history, _ = run(data, epochs=2, validate_after_train_dice=1.01)
    assert all(math.isnan(v) for v in history.val_dice)
    assert history.best_epoch is None


class Threshold(nn.Module):
    """Logits that put every pixel above 0.5 in the mask: a perfect model for images equal to their masks."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(50.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * (x - 0.5)


def test_evaluate_scores_each_image_with_its_name_and_lists_the_worst():
    masks = disc_arrays(5, seed=3)["labels"]
    data = {"images": masks.copy(), "labels": masks.copy(), "names": list("abcde")}
    data["images"][2] = 1.0 - data["images"][2]  # image c is inverted: the worst case
    result = evaluate(Threshold(), data, return_predictions=True)
    assert result.names == list("abcde")
    assert result.dice.shape == (5,) and result.predictions.shape == masks.shape
    np.testing.assert_allclose(np.delete(result.dice, 2), 1.0, atol=1e-3)
    assert result.worst(1)[0][:2] == (2, "c") and result.dice[2] < 0.1
    assert result.mean == pytest.approx(result.dice.mean())
    assert "mean" in result.table().splitlines()[-1]


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"images": np.zeros((2, 30, 32), np.float32), "labels": np.zeros((2, 30, 32), np.float32)}, "multiple of 16"),
        ({"images": np.zeros((2, 32, 32), np.float32), "labels": np.zeros((2, 16, 16), np.float32)}, "same shape"),
        ({"images": np.zeros((2, 32, 32), np.float32)}, "'labels'"),
    ],
)
def test_bad_arrays_are_refused_with_a_message(bad, match):
    with pytest.raises(ValueError, match=match):
        evaluate(Threshold(), bad)


def test_mixed_precision_and_channels_last_path_runs(data, monkeypatch, tmp_path):
    """The GPU path (autocast + channels-last) exercised on the CPU with bf16, since CI has no GPU."""
    from course_lib.train import loop
    from course_lib.train.device import Precision

    monkeypatch.setattr(loop, "precision_for", lambda device, **_: Precision(device, torch.bfloat16, True))
    history, model = run(data, out_dir=tmp_path, epochs=2)
    assert len(history) == 2 and all(0.0 <= d <= 1.0 for d in history.val_dice)
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert load_checkpoint(tmp_path / LAST)["epoch"] == 2


def saturated_model() -> nn.Module:
    """A network whose logits saturate the sigmoid: it predicts lung everywhere and its gradient has vanished."""
    model = nn.Conv2d(1, 1, 3, padding=1)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.fill_(60.0)
    return model


def test_a_collapsed_network_is_reported_once_with_what_to_change(data):
    with pytest.warns(TrainingCollapsedWarning) as caught:
        history, _ = run(data, model=saturated_model(), epochs=5)
    messages = [str(w.message) for w in caught if issubclass(w.category, TrainingCollapsedWarning)]
    assert len(messages) == 1, messages
    assert "every pixel of every validation image as lung" in messages[0] and "lower learning rate" in messages[0]
    assert "up to epoch 3" in messages[0]
    assert len(history) == 5, "the warning must not stop the run"



def test_the_recipe_sets_the_cpu_threads_for_the_run_only(data):
    before = torch.get_num_threads()
    seen = []
    run(data, epochs=1, threads=1, callbacks=[lambda epoch, history: seen.append(torch.get_num_threads())])
    assert seen == [1], "fit did not train with the recipe's thread count"
    assert torch.get_num_threads() == before, "fit left torch's thread count changed"
    assert get_config("quick").threads == 1, "quick mode trains tiny models: one thread (no spinning on busy cores)"
    assert get_config("cpu").threads == 1, "the cpu recipe: one thread (two spin against a busy core)"


def test_fit_trains_with_the_loss_it_is_given(data):
    from course_lib.losses import dice_loss

    calls = []

    def counted_dice_loss(probabilities, labels):  # notebook 4 trains with a student's own
        calls.append(probabilities.shape[0])
        return dice_loss(probabilities, labels)

    config = get_config("quick", **TINY)
    plain = fit(tiny_model(), *data, config=config, device="cpu", progress=False)
    given = fit(tiny_model(), *data, config=config, device="cpu", progress=False, loss=counted_dice_loss)
    assert sum(calls) == config.epochs * len(data[0]["images"]), "the given loss must score every training image"
    assert given.same_curves(plain)
