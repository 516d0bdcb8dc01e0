"""Image-quality metrics on predicted vs true T_g(x), as docs/method.md defines them.

Images are mapped from the model's [-1, 1] to [0, 1] and clipped; PSNR, SSIM and RMSE are computed
per image (or volume) and then averaged. SSIM is scikit-image's, with a Gaussian window of
sigma 1.5 (11 taps, truncate=3.5) and population covariances, as in Wang et al. (2004).
"""

from __future__ import annotations

import numpy as np
import torch


def to_unit_range(x: np.ndarray) -> np.ndarray:
    return np.clip((np.asarray(x, dtype=np.float64) + 1.0) / 2.0, 0.0, 1.0)


def per_item_metrics(pred: np.ndarray, target: np.ndarray) -> dict[str, np.ndarray]:
    """PSNR (dB), SSIM and RMSE of each item; inputs (N, C, *spatial) already in [0, 1].

    Several channels (RGB) give one SSIM averaged over channels; volumes get the 3-D SSIM.
    """
    from skimage.metrics import structural_similarity  # here: scikit-image and scipy cost a training job ~0.7 s

    pred, target = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    if pred.shape != target.shape:
        raise ValueError(f"prediction shape {pred.shape} differs from target shape {target.shape}")
    channel_axis = 0 if pred.shape[1] > 1 else None
    if channel_axis is None:  # one channel: the item itself is the image or volume
        pred, target = pred[:, 0], target[:, 0]
    mse = mean_squared_error(pred, target)
    psnr = psnr_of(mse)
    ssim = np.array([
        structural_similarity(p, t, data_range=1.0, gaussian_weights=True, sigma=1.5,
                              use_sample_covariance=False, channel_axis=channel_axis)
        for p, t in zip(pred, target)
    ])
    return {"psnr": psnr, "ssim": ssim, "rmse": np.sqrt(mse)}


def rmse_on_model_scale(rmse_unit: float) -> float:
    """RMSE on the models' [-1, 1] pixel scale from RMSE on [0, 1]: exactly twice it, since [-1, 1] is
    2u - 1 of [0, 1] (clipping included). The paper's RMSE fits this scale (docs/method.md)."""
    return 2.0 * rmse_unit


def mean_squared_error(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-item MSE over every axis but the first."""
    return ((np.asarray(pred, np.float64) - np.asarray(target, np.float64)) ** 2).mean(axis=tuple(range(1, np.ndim(pred))))


def model_range_psnr(pred, target) -> np.ndarray:
    """Per-item PSNR (dB) of two batches in the models' [-1, 1], both mapped to [0, 1]; capped at 100 dB,
    so identical items stay finite in JSON."""
    mse = mean_squared_error(to_unit_range(pred), to_unit_range(target))
    return psnr_of(np.maximum(mse, 1e-10))


def tensor_model_range_psnr(pred, target):
    """``model_range_psnr`` of two torch batches, computed where they are (float64, no copy to the host)."""
    unit = lambda images: ((images.to(torch.float64) + 1.0) / 2.0).clamp(0.0, 1.0)
    mse = (unit(pred) - unit(target)).pow(2).flatten(1).mean(1)
    return 10.0 * torch.log10(1.0 / mse.clamp_min(1e-10))


def psnr_of(mse: np.ndarray) -> np.ndarray:
    """PSNR in dB of per-item MSEs on [0, 1] images (infinite for a perfect item)."""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(1.0 / np.asarray(mse))
