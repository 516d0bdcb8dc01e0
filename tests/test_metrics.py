import numpy as np
import pytest

from ald.metrics import per_item_metrics, to_unit_range


def test_known_values():
    rng = np.random.default_rng(0)
    target = rng.uniform(0.2, 0.8, (3, 28, 28))
    m = per_item_metrics(target + 0.1, target)  # MSE 0.01 exactly
    assert np.allclose(m["psnr"], 20.0) and np.allclose(m["rmse"], 0.1)
    same = per_item_metrics(target, target)
    assert np.allclose(same["ssim"], 1.0) and np.allclose(same["rmse"], 0.0)


def test_ssim_matches_wang_formula_on_constant_images():
    # For constant images the Gaussian-window SSIM reduces to the luminance term.
    a, b = np.full((1, 16, 16), 0.3), np.full((1, 16, 16), 0.6)
    c1 = (0.01 * 1.0) ** 2
    expected = (2 * 0.3 * 0.6 + c1) / (0.3**2 + 0.6**2 + c1)
    assert per_item_metrics(a, b)["ssim"][0] == pytest.approx(expected, rel=1e-6)


def test_ssim_falls_with_noise_and_works_in_3d():
    rng = np.random.default_rng(1)
    vol = rng.uniform(0, 1, (2, 12, 12, 12))
    low = per_item_metrics(np.clip(vol + rng.normal(0, 0.05, vol.shape), 0, 1), vol)["ssim"]
    high = per_item_metrics(np.clip(vol + rng.normal(0, 0.3, vol.shape), 0, 1), vol)["ssim"]
    assert (high < low).all() and (low < 1).all()


def test_unit_range_and_shape_check():
    assert np.allclose(to_unit_range(np.array([-1.0, 0.0, 1.0, 2.0])), [0, 0.5, 1, 1])
    with pytest.raises(ValueError, match="shape"):
        per_item_metrics(np.zeros((2, 4, 4)), np.zeros((2, 4, 5)))
