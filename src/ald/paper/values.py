"""The paper's published numbers, typed in by hand with their source (table and row).

Swarnali, Zhang, Hossain, "Learning Group Actions In Disentangled Latent Image Representations".
Every table is keyed by name, never by position; values are exactly as printed. The config's
``datasets.<name>.paper_row`` and ``models.<name>.paper_column`` are checked against these keys.
"""

TABLE1_SOURCE = "paper Table 1"
# Paper dataset row -> metric -> paper model column, the columns in the paper's order.
TABLE1 = {
    "RMNIST": {
        "PSNR": {"EquivNR": 21.77, "InfoGAN-CR": 17.39, "CausalVAE": 24.02, "MAGANet": 18.63, "GALR": 18.63, "Ours": 30.61},
        "SSIM": {"EquivNR": 0.87, "InfoGAN-CR": 0.65, "CausalVAE": 0.92, "MAGANet": 0.63, "GALR": 0.65, "Ours": 0.98},
        "RMSE": {"EquivNR": 0.16, "InfoGAN-CR": 0.29, "CausalVAE": 0.13, "MAGANet": 0.31, "GALR": 0.28, "Ours": 0.06},
    },
    "RBMN": {
        "PSNR": {"EquivNR": 17.30, "InfoGAN-CR": 15.08, "CausalVAE": 21.02, "MAGANet": 17.53, "GALR": 18.62, "Ours": 27.15},
        "SSIM": {"EquivNR": 0.71, "InfoGAN-CR": 0.53, "CausalVAE": 0.84, "MAGANet": 0.57, "GALR": 0.66, "Ours": 0.95},
        "RMSE": {"EquivNR": 0.33, "InfoGAN-CR": 0.37, "CausalVAE": 0.19, "MAGANet": 0.34, "GALR": 0.28, "Ours": 0.10},
    },
    "Adrenals": {
        "PSNR": {"EquivNR": 21.77, "InfoGAN-CR": 21.90, "CausalVAE": 23.08, "MAGANet": 19.83, "GALR": 23.09, "Ours": 28.91},
        "SSIM": {"EquivNR": 0.87, "InfoGAN-CR": 0.88, "CausalVAE": 0.91, "MAGANet": 0.81, "GALR": 0.88, "Ours": 0.97},
        "RMSE": {"EquivNR": 0.16, "InfoGAN-CR": 0.17, "CausalVAE": 0.14, "MAGANet": 0.16, "GALR": 0.15, "Ours": 0.07},
    },
}
TABLE1_MODELS = tuple(TABLE1["RMNIST"]["PSNR"])  # the paper's six columns, in its order


def table1_value(row: str, metric: str, model: str) -> float | None:
    """The paper's Table 1 value, or None where the paper has no such cell."""
    return TABLE1.get(row, {}).get(metric, {}).get(model)


TABLE2_SOURCE = "paper Table 2"
# Loss ablation (reconstruction always on): row -> variant -> metric.
TABLE2 = {
    "RBMN": {"inv_only": {"PSNR": 27.16, "SSIM": 0.95, "RMSE": 0.097},
             "const_only": {"PSNR": 27.12, "SSIM": 0.95, "RMSE": 0.098},
             "both": {"PSNR": 27.15, "SSIM": 0.95, "RMSE": 0.097}},
    "Brains": {"inv_only": {"PSNR": 27.86, "SSIM": 0.92, "RMSE": 0.081},
               "const_only": {"PSNR": 27.66, "SSIM": 0.89, "RMSE": 0.083},
               "both": {"PSNR": 31.64, "SSIM": 0.93, "RMSE": 0.052}},
    "Adrenals": {"inv_only": {"PSNR": 28.16, "SSIM": 0.94, "RMSE": 0.079},
                 "const_only": {"PSNR": 27.35, "SSIM": 0.93, "RMSE": 0.087},
                 "both": {"PSNR": 28.91, "SSIM": 0.97, "RMSE": 0.073}},
}


def table2_value(row: str, variant: str, metric: str) -> float | None:
    """The paper's Table 2 value, or None where the paper has no such cell."""
    return TABLE2.get(row, {}).get(variant, {}).get(metric)


TABLE3_SOURCE = "paper Table 3"
# Latent probes: row -> latent part -> metric, in percent.
TABLE3 = {
    "RMNIST": {
        "z": {"accuracy": 92.68, "precision": 92.93, "recall": 92.68, "f1": 92.68, "auc": 99.61},
        "z_i": {"accuracy": 19.75, "precision": 17.83, "recall": 19.75, "f1": 10.48, "auc": 82.37},
        "z_v": {"accuracy": 93.26, "precision": 93.47, "recall": 93.26, "f1": 93.28, "auc": 99.66},
    },
    "RBMN": {
        "z": {"accuracy": 93.27, "precision": 93.46, "recall": 93.27, "f1": 93.23, "auc": 99.72},
        "z_i": {"accuracy": 44.18, "precision": 48.26, "recall": 44.18, "f1": 40.09, "auc": 84.79},
        "z_v": {"accuracy": 94.18, "precision": 94.32, "recall": 94.18, "f1": 94.18, "auc": 99.75},
    },
    "Adrenals": {
        "z": {"accuracy": 72.15, "precision": 81.73, "recall": 72.15, "f1": 74.26, "auc": 81.05},
        "z_i": {"accuracy": 33.22, "precision": 80.36, "recall": 33.22, "f1": 27.65, "auc": 76.46},
        "z_v": {"accuracy": 73.15, "precision": 84.18, "recall": 73.15, "f1": 75.24, "auc": 84.20},
    },
}
TABLE3_METRICS = tuple(TABLE3["RMNIST"]["z"])  # the paper's five scores, in its order


def table3_value(row: str, part: str, metric: str) -> float | None:
    """The paper's Table 3 value, or None where the paper has no such cell."""
    return TABLE3.get(row, {}).get(part, {}).get(metric)


# A row the paper shows (Figure 4) without a number in any table: tabled as ours only.
ROWS_WITHOUT_NUMBERS = ("Airplanes",)


def paper_rows() -> list[str]:
    """Every row of the paper a dataset may reproduce (``datasets.<name>.paper_row``), in the paper's order."""
    return list(dict.fromkeys([*TABLE1, *TABLE2, *TABLE3, *ROWS_WITHOUT_NUMBERS]))
