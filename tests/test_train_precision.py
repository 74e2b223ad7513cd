"""The precision setting: auto asks the CPU (faked here) for native bf16, the record says what ran, and a bf16 step
on the CPU keeps the weights in fp32. Speed belongs in benchmarks/train_step.py, not here."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from course_lib.train import TrainConfig, fit, get_config, load_checkpoint
from course_lib.train import device as devices
from course_lib.train.checkpoint import BEST, LAST, save_checkpoint
from course_lib.train.device import Precision, precision_for
from course_lib.train.steps import train_step

CPU = torch.device("cpu")


def fake_cpu(monkeypatch, capability: str, features: dict[str, bool]) -> None:
    """Make torch report ``capability`` and cpuinfo ``features``, as a CPU of another kind would."""
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {"architecture": "x86_64", **features}, raising=False)


@pytest.mark.parametrize("capability, features, native", [
    ("AVX512", {"amx_bf16": True, "avx512_bf16": True}, True),  # Sapphire Rapids and later
    ("AVX512", {"amx_bf16": False, "avx512_bf16": True}, True),  # Cooper Lake, AMD Zen 4
    ("AVX512", {"amx_bf16": False, "avx512_bf16": False}, False),  # Skylake-X: AVX512 without bf16
    ("AVX2", {"amx_bf16": False, "avx512_bf16": False}, False),  # this project's AMD EPYC build machine
    ("AVX2", {"amx_bf16": True, "avx512_bf16": True}, False),  # bf16 hardware, ATEN_CPU_CAPABILITY lowered to avx2
    ("DEFAULT", {}, False),  # an ARM or unknown CPU: unsure, so fp32
])
def test_auto_is_bf16_exactly_on_cpus_with_native_bf16(monkeypatch, capability, features, native):
    fake_cpu(monkeypatch, capability, features)
    assert devices.cpu_has_native_bf16()[0] is native
    chosen = precision_for(CPU)
    assert chosen.autocast_dtype is (torch.bfloat16 if native else None) and not chosen.channels_last
    assert chosen.name == ("bf16" if native else "fp32")
    assert f"auto: CPU {capability}" in chosen.describe(), "the run's line names the CPU's capability"
    assert precision_for(CPU, precision="fp32").autocast_dtype is None
    forced = precision_for(CPU, precision="bf16")
    assert forced.autocast_dtype is torch.bfloat16
    assert ("emulated" in forced.reason) is (not native), "a forced bf16 without native support says it is slow"


def test_without_torchs_cpuinfo_the_kernels_flags_answer_and_else_fp32(monkeypatch, tmp_path):
    monkeypatch.delattr(torch.cpu, "get_capabilities", raising=False)
    for probe in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"):
        monkeypatch.delattr(torch.cpu, probe, raising=False)
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 amx_tile amx_bf16\n")
    monkeypatch.setattr(devices, "CPUINFO", str(cpuinfo))
    assert devices.cpu_bf16_features() == ["amx_bf16", "avx512_bf16"]
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2\n")
    assert devices.cpu_bf16_features() == []
    monkeypatch.setattr(devices, "CPUINFO", str(tmp_path / "absent"))  # macOS, Windows: nothing to read
    assert devices.cpu_bf16_features() == []


def test_older_torchs_private_probes_answer_too(monkeypatch):
    monkeypatch.delattr(torch.cpu, "get_capabilities", raising=False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True, raising=False)
    assert devices.cpu_bf16_features() == ["avx512_bf16"]


@pytest.mark.parametrize("bf16_gpu", [True, False])
def test_on_a_gpu_auto_keeps_the_amp_choice_and_fp32_turns_it_off(monkeypatch, bf16_gpu):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *_, **__: bf16_gpu)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *_: "a test GPU")
    gpu = torch.device("cuda")
    mixed = torch.bfloat16 if bf16_gpu else torch.float16
    assert precision_for(gpu).autocast_dtype is mixed and precision_for(gpu).channels_last
    assert precision_for(gpu).needs_scaler is (not bf16_gpu)
    assert precision_for(gpu, amp=False).autocast_dtype is None
    assert precision_for(gpu, precision="fp32").autocast_dtype is None
    if bf16_gpu:
        assert precision_for(gpu, amp=False, precision="bf16").autocast_dtype is torch.bfloat16
    else:
        with pytest.raises(ValueError, match="a test GPU does not support bf16"):
            precision_for(gpu, precision="bf16")


def test_unknown_or_unsupported_precisions_are_refused():
    with pytest.raises(ValueError, match="precision must be one of"):
        precision_for(CPU, precision="fp16")
    with pytest.raises(ValueError, match="on mps use fp32 or auto"):
        precision_for(torch.device("mps"), precision="bf16")
    assert precision_for(torch.device("mps")).autocast_dtype is None
    with pytest.raises(ValueError, match="TrainConfig.precision must be one of"):
        get_config("quick", precision="half")


def test_the_precision_setting_survives_the_config_round_trip():
    for setting in devices.PRECISIONS:
        config = get_config("cpu", precision=setting)
        assert TrainConfig.from_dict(config.to_dict()) == config and config.precision == setting
    assert all(get_config(name).precision == "auto" for name in ("lab", "fast", "cpu", "quick"))


def test_a_bf16_step_on_the_cpu_runs_and_keeps_the_weights_fp32():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 1, 3, padding=1))
    before = [parameter.detach().clone() for parameter in model.parameters()]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    images = torch.rand(2, 1, 16, 16)
    labels = (images > 0.5).float()
    loss, probabilities = train_step(model, optimizer, images, labels, precision=Precision(CPU, torch.bfloat16, False))
    assert torch.isfinite(loss) and probabilities.dtype == torch.float32
    assert all(parameter.dtype == torch.float32 for parameter in model.parameters())
    assert all(parameter.grad.dtype == torch.float32 for parameter in model.parameters())
    assert any(not torch.equal(old, new) for old, new in zip(before, model.parameters())), "no update happened"


class Interrupted(Exception):
    pass


def stop_after_one(epoch, history):
    if epoch == 1:
        raise Interrupted


def tiny_run(tmp_path, capsys=None, resume: bool = False, callbacks=(), **overrides):
    """Two epochs of a two-layer network on random images, checkpointed in ``tmp_path``."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 1, 3, padding=1))
    images = torch.rand(8, 32, 32).numpy()
    arrays = {"images": images, "labels": (images > 0.5).astype("float32")}
    config = get_config("quick", size=32, epochs=2, limit_images=None, augment=False, **overrides)
    return fit(model, arrays, arrays, config=config, out_dir=tmp_path, resume=resume, device="cpu",
               progress=capsys is not None, callbacks=callbacks), model


def test_a_run_records_and_prints_the_precision_that_ran(monkeypatch, tmp_path, capsys):
    fake_cpu(monkeypatch, "AVX512", {"amx_bf16": True})
    history, model = tiny_run(tmp_path, capsys)
    first_lines = capsys.readouterr().out
    assert "precision bf16 (auto: CPU AVX512 with native bf16 (amx_bf16))" in first_lines
    assert history.precision == "bf16"
    assert load_checkpoint(tmp_path / LAST)["precision"] == load_checkpoint(tmp_path / BEST)["precision"] == "bf16"
    assert all(parameter.dtype == torch.float32 for parameter in model.parameters())
    forced, _ = tiny_run(tmp_path / "fp32", precision="fp32")
    assert forced.precision == "fp32"


def test_a_resumed_run_on_another_machine_says_both(monkeypatch, tmp_path):
    fake_cpu(monkeypatch, "AVX2", {})
    with pytest.raises(Interrupted):
        tiny_run(tmp_path, callbacks=[stop_after_one])
    fake_cpu(monkeypatch, "AVX512", {"avx512_bf16": True})
    history, _ = tiny_run(tmp_path, resume=True)
    assert history.epoch == [1, 2] and history.precision == "fp32, then bf16"


def test_a_checkpoint_from_before_the_precision_setting_still_resumes(tmp_path):
    with pytest.raises(Interrupted):
        tiny_run(tmp_path, callbacks=[stop_after_one])
    state = load_checkpoint(tmp_path / LAST)
    del state["config"]["precision"], state["precision"]
    save_checkpoint(state, tmp_path / LAST)
    history, _ = tiny_run(tmp_path, resume=True)
    assert history.epoch == [1, 2]
