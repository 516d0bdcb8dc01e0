"""The paper's published numbers, typed in by hand with their source (table and row).

Swarnali, Zhang, Hossain, "Learning Group Actions In Disentangled Latent Image Representations".
Keys: paper dataset row -> metric -> paper model column. Values are exactly as printed.
"""

TABLE1_SOURCE = "paper Table 1"
TABLE1_MODELS = ("EquivNR", "InfoGAN-CR", "CausalVAE", "MAGANet", "GALR", "Ours")
TABLE1 = {
    "RMNIST": {
        "PSNR": (21.77, 17.39, 24.02, 18.63, 18.63, 30.61),
        "SSIM": (0.87, 0.65, 0.92, 0.63, 0.65, 0.98),
        "RMSE": (0.16, 0.29, 0.13, 0.31, 0.28, 0.06),
    },
    "RBMN": {
        "PSNR": (17.30, 15.08, 21.02, 17.53, 18.62, 27.15),
        "SSIM": (0.71, 0.53, 0.84, 0.57, 0.66, 0.95),
        "RMSE": (0.33, 0.37, 0.19, 0.34, 0.28, 0.10),
    },
    "Adrenals": {
        "PSNR": (21.77, 21.90, 23.08, 19.83, 23.09, 28.91),
        "SSIM": (0.87, 0.88, 0.91, 0.81, 0.88, 0.97),
        "RMSE": (0.16, 0.17, 0.14, 0.16, 0.15, 0.07),
    },
}


def table1_value(row: str, metric: str, model: str) -> float | None:
    """The paper's Table 1 value, or None where the paper has no such cell."""
    if row not in TABLE1 or model not in TABLE1_MODELS:
        return None
    return TABLE1[row][metric][TABLE1_MODELS.index(model)]
