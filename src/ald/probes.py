"""Latent probes (paper Table 3): how much class information z, z_i and z_v carry.

Features are the flattened latent feature maps of the rotated images T_g(x) of fixed, seeded pairs
(the inputs a Rotated (Blocked) MNIST classifier would see): z = E(T_g x), and z_v and z_i, each
keeping only its own channels (the model's ``variant_channels``). The classifier is scikit-learn's
multinomial logistic regression on standardised features (lbfgs): linear, so the score measures what
the representation makes linearly available rather than what a deep probe could extract,
deterministic, and with calibrated probabilities for the one-vs-rest AUC.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, precision_recall_fscore_support, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .training import load_run

PARTS = ("z", "z_i", "z_v")
CLASSIFIER = "StandardScaler + LogisticRegression"


@torch.no_grad()
def latent_features(model, pairs, n_items: int | None = None, batch_size: int = 500, device="cpu"):
    """Flattened z, z_i and z_v of T_g(x) for the first n_items pairs (all by default); z_i / z_v
    keep only their own channels. Returns the features by part and the class labels."""
    n = min(n_items or len(pairs), len(pairs))
    variant = model.variant_channels().cpu().numpy()
    chunks = {part: [] for part in PARTS}
    for start in range(0, n, batch_size):
        idx = torch.arange(start, min(start + batch_size, n))
        z = model.encode(pairs.batch(idx, device).tx).cpu().numpy()
        chunks["z"].append(z.reshape(len(z), -1))
        chunks["z_v"].append(z[:, variant].reshape(len(z), -1))
        chunks["z_i"].append(z[:, ~variant].reshape(len(z), -1))
    return {part: np.concatenate(c) for part, c in chunks.items()}, pairs.labels[:n].numpy()


def probe_model(model, train_pairs, test_pairs, n_train: int, n_test: int, c: float, max_iter: int) -> dict:
    """Probe every latent part of a trained model: scores per part (None for an empty part)."""
    train_feats, train_y = latent_features(model, train_pairs, n_train)
    test_feats, test_y = latent_features(model, test_pairs, n_test)
    return {part: probe(train_feats[part], train_y, test_feats[part], test_y, c, max_iter) for part in PARTS}


def probe_run(run_dir: Path, out_json: Path, probe_seed: int, test_seed: int, train_items: int, test_items: int,
              C: float, max_iter: int, identity: dict | None = None) -> dict:
    """Probe a trained run: classifier fitted on ``train_items`` training pairs (``probe_seed``),
    scored on ``test_items`` test pairs (``test_seed``); the result is written to ``out_json``."""
    run = load_run(run_dir)
    train_pairs, test_pairs = run.pairs("train", probe_seed), run.pairs("test", test_seed)
    parts = probe_model(run.model, train_pairs, test_pairs, train_items, test_items, C, max_iter)
    diagnostics = run.model.diagnostics()
    result = {"identity": identity or {}, "n_variant_channels": diagnostics["n_variant"],
              "n_channels": diagnostics["n_channels"], "diagnostics": diagnostics, "model": run.spec.model,
              "train_items": min(train_items, len(train_pairs)), "test_items": min(test_items, len(test_pairs)),
              "classifier": CLASSIFIER, "C": C, "max_iter": max_iter, "parts": parts}
    Path(out_json).parent.mkdir(parents=True, exist_ok=True)
    Path(out_json).write_text(json.dumps(result, indent=2))
    return result


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
          c: float, max_iter: int) -> dict[str, float] | None:
    """Fit on train features, score on test; None when the part has no features (an empty z_i)."""
    if train_x.shape[1] == 0:
        return None
    unseen = sorted(set(np.unique(test_y).tolist()) - set(np.unique(train_y).tolist()))
    if unseen:
        raise ValueError(f"the probe's training pairs hold no item of class(es) {unseen} that its test pairs hold; "
                         "raise probes.train_items so that every class is seen")
    classifier = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=max_iter))
    classifier.fit(train_x, train_y)
    return classification_scores(test_y, classifier.predict_proba(test_x), classifier.classes_)
