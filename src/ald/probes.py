"""Latent probes (paper Table 3): how much class information z, z_i and z_v carry.

Features are the flattened latent feature maps of the rotated images T_g(x) of fixed, seeded pairs
(the inputs a Rotated (Blocked) MNIST classifier would see): z = E(T_g x), z_v = M z, z_i = (1 - M) z,
each keeping only its own channels. The classifier is scikit-learn's multinomial logistic
regression on standardised features (lbfgs, C=1, up to 1000 iterations): linear, so the score
measures what the representation makes linearly available rather than what a deep probe could
extract, deterministic, and with calibrated probabilities for the one-vs-rest AUC.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, precision_recall_fscore_support, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

PARTS = ("z", "z_i", "z_v")


@torch.no_grad()
def latent_features(model, pairs, n_items: int | None = None, batch_size: int = 500, device="cpu"):
    """Flattened z, z_i and z_v of T_g(x) for the first n_items pairs (all by default); z_i / z_v
    keep only their own channels. Returns the features by part and the class labels."""
    n = min(n_items or len(pairs), len(pairs))
    variant = (model.mask().flatten() > 0.5).cpu().numpy()
    chunks = {part: [] for part in PARTS}
    for start in range(0, n, batch_size):
        idx = torch.arange(start, min(start + batch_size, n))
        _, tx, _ = pairs.batch(idx, device)
        z = model.encode(tx).cpu().numpy()
        chunks["z"].append(z.reshape(len(z), -1))
        chunks["z_v"].append(z[:, variant].reshape(len(z), -1))
        chunks["z_i"].append(z[:, ~variant].reshape(len(z), -1))
    return {part: np.concatenate(c) for part, c in chunks.items()}, pairs.labels[:n].numpy()


def probe_model(model, train_pairs, test_pairs, n_train: int, n_test: int, c: float = 1.0, max_iter: int = 1000) -> dict:
    """Probe every latent part of a trained model: scores per part (None for an empty part)."""
    train_feats, train_y = latent_features(model, train_pairs, n_train)
    test_feats, test_y = latent_features(model, test_pairs, n_test)
    return {part: probe(train_feats[part], train_y, test_feats[part], test_y, c, max_iter) for part in PARTS}


def classification_scores(y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> dict[str, float]:
    """Accuracy, macro precision / recall / F1 and macro one-vs-rest AUC, in percent."""
    y_pred = classes[proba.argmax(1)]
    precision, recall, f1, _ = precision_recall_fscore_support(y_true, y_pred, average="macro", zero_division=0)
    if len(classes) == 2:
        auc = roc_auc_score(y_true, proba[:, 1])
    else:
        auc = roc_auc_score(y_true, proba, multi_class="ovr", average="macro", labels=classes)
    return {"accuracy": 100 * accuracy_score(y_true, y_pred), "precision": 100 * precision,
            "recall": 100 * recall, "f1": 100 * f1, "auc": 100 * auc}


def probe(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray,
          c: float = 1.0, max_iter: int = 1000) -> dict[str, float] | None:
    """Fit on train features, score on test; None when the part has no features (an empty z_i)."""
    if train_x.shape[1] == 0:
        return None
    classifier = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=max_iter))
    classifier.fit(train_x, train_y)
    return classification_scores(test_y, classifier.predict_proba(test_x), classifier.classes_)
