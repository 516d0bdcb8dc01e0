"""Where and how a run's arithmetic is done: the device (``training.device``), the precision
(``training.precision``: fp32, or bf16 where the hardware has bf16 units) and channels-last memory."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from pathlib import Path

import torch

from .models import GroupActionModel


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


PRECISIONS = ("fp32", "bf16")


def bf16_supported(device: torch.device) -> bool:
    """Whether ``device`` has bf16 matrix units: a CUDA card that supports bf16, or a CPU with AVX512-BF16 or AMX.
    Elsewhere bf16 is emulated, and on a CPU that is about ten times slower than fp32 (docs/speed.md)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and (torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


@dataclass(frozen=True)
class Compute:
    """Where and how a run's arithmetic is done: the device, the precision actually used (``training.precision``
    falls back to fp32 where the hardware has no bf16 units) and channels-last memory for convolutions."""

    device: torch.device
    precision: str

    @classmethod
    def for_spec(cls, device: torch.device, precision: str) -> "Compute":
        if precision not in PRECISIONS:
            raise ValueError(f"training.precision must be one of {PRECISIONS}, got {precision!r}")
        if device.type == "cuda":  # fp32 matmuls and convolutions on TF32 tensor cores; bf16 autocasts below
            torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        return cls(device, "bf16" if precision == "bf16" and bf16_supported(device) else "fp32")

    def autocast(self):
        """The forward pass and the losses in bf16 under bf16; weights, optimiser state and sums stay fp32."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16")

    def place(self, tensor: torch.Tensor) -> torch.Tensor:
        """A batch in channels-last memory (faster convolutions on the CPU, 2-D and 3-D; docs/speed.md)."""
        formats = {4: torch.channels_last, 5: torch.channels_last_3d}
        return tensor.contiguous(memory_format=formats[tensor.dim()]) if tensor.dim() in formats else tensor

    def model(self, model: GroupActionModel) -> GroupActionModel:
        volumetric = any(isinstance(module, (torch.nn.Conv3d, torch.nn.ConvTranspose3d)) for module in model.modules())
        return model.to(self.device, memory_format=torch.channels_last_3d if volumetric else torch.channels_last)


def device_name(device: torch.device) -> str:
    """The card a run trained on (e.g. 'NVIDIA H200'), or the CPU's name: 'cuda' alone does not say which."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpuinfo = Path("/proc/cpuinfo")
    names = [line.split(":", 1)[1].strip() for line in (cpuinfo.read_text().splitlines() if cpuinfo.exists() else [])
             if line.startswith("model name")]
    return names[0] if names else platform.processor() or platform.machine() or device.type
