"""Latent probes (paper Table 3): how much class information z, z_i and z_v carry.

Features are the flattened latent feature maps of fixed, seeded pairs, of the rotated images T_g(x)
(``tx``, what a Rotated (Blocked) MNIST classifier would see) and of the images before the action
(``x``, upright): z = E(input), and z_v and z_i, each keeping only its own channels (the model's
``variant_channels``). The paper does not name its classifier, so the probe family is a choice:

- ``linear``: multinomial logistic regression on standardised features (lbfgs): what the
  representation makes linearly available; deterministic, with calibrated probabilities for the AUC.
- ``mlp``: scikit-learn's MLPClassifier (one hidden ReLU layer, Adam, early stopping on a seeded 10%
  of the training pairs) on the same standardised features: what a small nonlinear probe extracts.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, precision_recall_fscore_support, roc_auc_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .training import load_run

PARTS = ("z", "z_i", "z_v")


def classifier(family: str, settings: dict, seed: int):
    """A fresh, unfitted probe of ``family`` (``linear`` or ``mlp``) on standardised features."""
    if family == "linear":
        head = LogisticRegression(C=settings["C"], max_iter=settings["max_iter"])
    elif family == "mlp":
        mlp = settings["mlp"]
        head = MLPClassifier(hidden_layer_sizes=tuple(mlp["hidden"]), alpha=mlp["alpha"], max_iter=mlp["max_iter"],
                             early_stopping=True, random_state=seed)
    else:
        raise ValueError(f"unknown probe family {family!r}; choose linear or mlp (config probes.families)")
    return make_pipeline(StandardScaler(), head)


def describe(family: str, settings: dict) -> str:
    if family == "linear":
        return f"StandardScaler + LogisticRegression(C={settings['C']}, lbfgs, max_iter={settings['max_iter']})"
    mlp = settings["mlp"]
    return (f"StandardScaler + MLPClassifier(hidden={tuple(mlp['hidden'])}, relu, adam, alpha={mlp['alpha']}, "
            f"max_iter={mlp['max_iter']}, early stopping on 10% of the training pairs)")


@torch.no_grad()
def latent_features(model, pairs, n_items: int | None = None, batch_size: int = 500, device="cpu", source: str = "tx"):
    """Flattened z, z_i and z_v of each pair's ``source`` image (``tx``: T_g(x); ``x``: x) for the first
    n_items pairs (all by default); z_i / z_v keep only their own channels. Returns the features by
    part and the class labels."""
    n = min(n_items or len(pairs), len(pairs))
    variant = model.variant_channels().cpu().numpy()
    chunks = {part: [] for part in PARTS}
    for start in range(0, n, batch_size):
        idx = torch.arange(start, min(start + batch_size, n))
        z = model.encode(getattr(pairs.batch(idx, device), source)).cpu().numpy()
        chunks["z"].append(z.reshape(len(z), -1))
        chunks["z_v"].append(z[:, variant].reshape(len(z), -1))
        chunks["z_i"].append(z[:, ~variant].reshape(len(z), -1))
    return {part: np.concatenate(c) for part, c in chunks.items()}, pairs.labels[:n].numpy()


def probe_model(model, train_pairs, test_pairs, n_train: int, n_test: int, families: list[str], inputs: list[str],
                settings: dict, seed: int = 0) -> list[dict]:
    """Probe every latent part of a trained model with each family on each input: one entry per
    (family, input) with the scores per part (None for an empty part)."""
    entries = []
    for source in inputs:
        train_feats, train_y = latent_features(model, train_pairs, n_train, source=source)
        test_feats, test_y = latent_features(model, test_pairs, n_test, source=source)
        for family in families:
            parts = {part: probe(train_feats[part], train_y, test_feats[part], test_y, classifier(family, settings, seed))
                     for part in PARTS}
            entries.append({"family": family, "input": source, "classifier": describe(family, settings), "parts": parts})
    return entries


def probe_run(run_dir: Path, out_json: Path, probe_seed: int, test_seed: int, train_items: int, test_items: int,
              families: list[str], inputs: list[str], identity: dict | None = None, **settings) -> dict:
    """Probe a trained run: classifiers fitted on ``train_items`` training pairs (``probe_seed``),
    scored on ``test_items`` test pairs (``test_seed``); ``settings``: each family's (C, max_iter, mlp).
    The result is written to ``out_json``; its ``probes`` list has one entry per (family, input)."""
    run = load_run(run_dir)
    train_pairs, test_pairs = run.pairs("train", probe_seed), run.pairs("test", test_seed)
    entries = probe_model(run.model, train_pairs, test_pairs, train_items, test_items, families, inputs, settings, probe_seed)
    diagnostics = run.model.diagnostics()
    result = {"identity": identity or {}, "n_variant_channels": diagnostics["n_variant"],
              "n_channels": diagnostics["n_channels"], "diagnostics": diagnostics, "model": run.spec.model,
              "train_items": min(train_items, len(train_pairs)), "test_items": min(test_items, len(test_pairs)),
              "probe_seed": probe_seed, "probes": entries, "train_run": run.provenance()}
    Path(out_json).parent.mkdir(parents=True, exist_ok=True)
    Path(out_json).write_text(json.dumps(result, indent=2))
    return result


def first_probe(result: dict) -> dict:
    """A probe file's first entry: the config's first family on its first input (Figure 3 draws it)."""
    return result["probes"][0]


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


def probe(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, model) -> dict[str, float] | None:
    """Fit ``model`` (a ``classifier``) on train features, score on test; None when the part has no
    features (an empty z_i)."""
    if train_x.shape[1] == 0:
        return None
    unseen = sorted(set(np.unique(test_y).tolist()) - set(np.unique(train_y).tolist()))
    if unseen:
        raise ValueError(f"the probe's training pairs hold no item of class(es) {unseen} that its test pairs hold; "
                         "raise probes.train_items so that every class is seen")
    model.fit(train_x, train_y)
    return classification_scores(test_y, model.predict_proba(test_x), model.classes_)
