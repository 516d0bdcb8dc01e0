import numpy as np
import pytest
import torch

from ald.pairs import NoRecipe, pair_set
from ald.groups import C4
from ald.models.ald import ALD
from ald.probes import classification_scores, classifier, latent_features, probe


def test_scores_on_known_predictions():
    y = np.array([0, 0, 1, 1, 2, 2])
    proba = np.eye(3)[[0, 0, 1, 2, 2, 2]] * 0.8 + 0.2 / 3  # one "1" predicted as "2"
    s = classification_scores(y, proba, np.arange(3))
    assert s["accuracy"] == pytest.approx(100 * 5 / 6)
    assert s["recall"] == pytest.approx(100 * (1 + 0.5 + 1) / 3)
    assert s["precision"] == pytest.approx(100 * (1 + 1 + 2 / 3) / 3)
    assert s["f1"] == pytest.approx(100 * (1 + 2 / 3 + 0.8) / 3)
    perfect = classification_scores(y, np.eye(3)[y], np.arange(3))
    assert perfect["auc"] == 100 and perfect["accuracy"] == 100


SETTINGS = {"C": 1.0, "max_iter": 1000, "mlp": {"hidden": [32], "alpha": 1e-4, "max_iter": 300}}


@pytest.mark.parametrize("family", ["linear", "mlp"])
def test_probe_separates_informative_from_noise_features(family):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 600)
    informative = np.eye(4)[y] * 3 + rng.normal(0, 1, (600, 4))
    noise = rng.normal(0, 1, (600, 4))
    good = probe(informative[:400], y[:400], informative[400:], y[400:], classifier(family, SETTINGS, 0))
    bad = probe(noise[:400], y[:400], noise[400:], y[400:], classifier(family, SETTINGS, 0))
    assert good["accuracy"] > 80 and 10 < bad["accuracy"] < 45 and bad["auc"] < 65
    assert probe(np.zeros((10, 0)), y[:10], np.zeros((5, 0)), y[:5], classifier(family, SETTINGS, 0)) is None


def test_the_mlp_probe_reads_what_the_linear_one_cannot():
    """Classes set by the sign of x1 * x2 (XOR): no linear boundary separates them, one hidden layer does."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2000, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    linear = probe(x[:1500], y[:1500], x[1500:], y[1500:], classifier("linear", SETTINGS, 0))
    mlp = probe(x[:1500], y[:1500], x[1500:], y[1500:], classifier("mlp", SETTINGS, 0))
    assert linear["accuracy"] < 65 and mlp["accuracy"] > 90


def test_the_mlp_probe_is_reproducible_from_its_seed():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(300, 5)), rng.integers(0, 3, 300)
    runs = [probe(x[:200], y[:200], x[200:], y[200:], classifier("mlp", SETTINGS, 7)) for _ in range(2)]
    assert runs[0] == runs[1]


def test_an_unknown_probe_family_names_the_choices():
    with pytest.raises(ValueError, match="unknown probe family 'svm'; choose linear or mlp"):
        classifier("svm", SETTINGS, 0)


def test_latent_parts_split_the_channels(glyph_npz):
    torch.manual_seed(0)
    model = ALD(C4())
    pairs = pair_set(glyph_npz, "test", C4(), NoRecipe(), seed=0)
    feats, labels = latent_features(model, pairs, batch_size=20)
    upright, _ = latent_features(model, pairs, batch_size=20, source="x")
    assert upright["z"].shape == feats["z"].shape and not np.allclose(upright["z"], feats["z"])  # x is not T_g(x)
    assert np.array_equal(labels, pairs.labels.numpy())
    n_v = model.diagnostics()["n_variant"]
    assert feats["z"].shape == (64, 64 * 49)
    assert feats["z_v"].shape == (64, n_v * 49) and feats["z_i"].shape == (64, (64 - n_v) * 49)
    assert np.allclose(np.sort(feats["z"], 1), np.sort(np.concatenate([feats["z_v"], feats["z_i"]], 1), 1))


def test_probe_refuses_test_classes_it_never_saw():
    x = np.random.default_rng(0).normal(size=(12, 3))
    with pytest.raises(ValueError, match=r"no item of class\(es\) \[2\].*raise probes.train_items"):
        probe(x[:6], np.array([0, 1] * 3), x[6:], np.array([0, 1, 2] * 2), classifier("linear", SETTINGS, 0))
