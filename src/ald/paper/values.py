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

TABLE2_SOURCE = "paper Table 2"
# Loss ablation (reconstruction always on): row -> variant -> (PSNR, SSIM, RMSE).
TABLE2 = {
    "RBMN": {"inv_only": (27.16, 0.95, 0.097), "const_only": (27.12, 0.95, 0.098), "both": (27.15, 0.95, 0.097)},
    "Brains": {"inv_only": (27.86, 0.92, 0.081), "const_only": (27.66, 0.89, 0.083), "both": (31.64, 0.93, 0.052)},
    "Adrenals": {"inv_only": (28.16, 0.94, 0.079), "const_only": (27.35, 0.93, 0.087), "both": (28.91, 0.97, 0.073)},
}
TABLE2_METRICS = ("PSNR", "SSIM", "RMSE")


def table2_value(row: str, variant: str, metric: str) -> float | None:
    if row not in TABLE2:
        return None
    return TABLE2[row][variant][TABLE2_METRICS.index(metric)]


TABLE3_SOURCE = "paper Table 3"
# Latent probes: row -> latent part -> (accuracy, precision, recall, F1, AUC), in percent.
TABLE3 = {
    "RMNIST": {"z": (92.68, 92.93, 92.68, 92.68, 99.61), "z_i": (19.75, 17.83, 19.75, 10.48, 82.37),
               "z_v": (93.26, 93.47, 93.26, 93.28, 99.66)},
    "RBMN": {"z": (93.27, 93.46, 93.27, 93.23, 99.72), "z_i": (44.18, 48.26, 44.18, 40.09, 84.79),
             "z_v": (94.18, 94.32, 94.18, 94.18, 99.75)},
    "Adrenals": {"z": (72.15, 81.73, 72.15, 74.26, 81.05), "z_i": (33.22, 80.36, 33.22, 27.65, 76.46),
                 "z_v": (73.15, 84.18, 73.15, 75.24, 84.20)},
}
TABLE3_METRICS = ("accuracy", "precision", "recall", "f1", "auc")


def table3_value(row: str, part: str, metric: str) -> float | None:
    if row not in TABLE3:
        return None
    return TABLE3[row][part][TABLE3_METRICS.index(metric)]
