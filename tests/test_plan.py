"""Config resolution (ald.plan), tested without Snakemake."""

import copy

import pytest
import yaml

from ald.plan import ConfigError, Plan, Run
from conftest import REPO, merge, require_renders

CONFIG = yaml.safe_load((REPO / "config.yaml").read_text())


def config_with(**changes):
    config = copy.deepcopy(CONFIG)
    for key, value in changes.items():
        target = config
        *parents, last = key.split("__")
        for p in parents:
            target = target[p]
        target[last] = value
    return config


def problems_of(config) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        Plan(config)
    return caught.value.problems


def test_runs_of_the_paper_config():
    plan = Plan(CONFIG)  # brains is left out until the OASIS terms are accepted
    assert plan.datasets == ["rotated_mnist", "rotated_blocked_mnist", "adrenal"]
    assert len(plan.main_runs()) == 3 * 2 * 6 * 3  # datasets x their 2 groups x the 6 models of Table 1 x seeds
    assert len(plan.ablation_runs()) == 3 * 1 * 3 * 3  # datasets x [C4] or [O] x (model + 2 variants) x seeds
    assert {(r.dataset, r.group) for r in plan.ablation_runs()} == {
        ("rotated_mnist", "C4"), ("rotated_blocked_mnist", "C4"), ("adrenal", "O")}
    assert {r.group for r in plan.main_runs() if r.dataset == "adrenal"} == {"O", "SO3"}
    assert [plan.tau_model(t) for t in (0.1, 0.5)] == ["ald-tau0.1", "ald"]  # the model's own tau is the model
    assert set(plan.model_names()) >= {"ald", "ald-inv_only", "ald-const_only", "ald-tau0.9"}


def test_variants_and_group_params_resolve():
    plan = Plan(CONFIG)
    assert plan.model_params("ald-tau0.3", "C4")["tau"] == 0.3
    assert plan.model_params("ald-inv_only", "C4")["loss_weights"] == {"recon": 1.0, "inv": 1.0, "const": 0.0}
    assert plan.model_params("ald", "SO2")["latent_rms_norm"] is True
    assert "latent_rms_norm" not in plan.model_params("ald", "C4")


def test_variants_are_declared_by_the_config_not_read_from_names():
    config = config_with(ablations__variants={"no_inv": {"inv": 0.0}}, tau_sweep__taus=[0.25, 0.5])
    plan = Plan(config)
    assert {name: (v.parent, v.label, v.params) for name, v in plan.variants.items()} == {
        "ald-no_inv": ("ald", "no_inv", {"loss_weights": {"inv": 0.0}}), "ald-tau0.25": ("ald", "tau0.25", {"tau": 0.25})}
    assert plan.model_names()[-2:] == ["ald-no_inv", "ald-tau0.25"] and plan.variant_label("ald-no_inv") == "no_inv"
    assert plan.identity(Run("rotated_mnist", "C4", "ald-no_inv", 42))["paper_column"] == "Ours"
    # a name shaped like a variant is not one unless the config declares it
    config["not_run"] = [{"reason": "x", "models": ["ald-inv_only"]}]
    assert any("not_run[0].models: 'ald-inv_only' is not configured" in p for p in problems_of(config))


def test_train_spec_carries_the_recipe_with_its_defaults():
    config = config_with(datasets__rotated_blocked_mnist__recipe={"kind": "occluder"})  # size left to its default
    spec = Plan(config).train_spec(Run("rotated_blocked_mnist", "C4", "ald", 42))
    assert spec["recipe"] == {"kind": "occluder", "size": 7} and spec["source_npz"] == "data/prepared/mnist.npz"
    assert spec["threads"] == 2 and spec["max_train_items"] is None and spec["val_seed"] == 0


def test_defaults_are_filled_from_the_schema():
    config = copy.deepcopy(CONFIG)
    del config["probes"], config["evaluation"], config["training"]["threads"], config["sources"]["mnist"]["n_val"]
    settings = Plan(config).config
    assert settings["probes"] == {"models": None, "families": ["linear", "mlp"], "inputs": ["tx", "x"], "probe_seed": 0,
                                  "train_items": 10000, "test_items": 10000, "C": 1.0, "max_iter": 1000,
                                  "mlp": {"hidden": [256], "alpha": 0.0001, "max_iter": 200}}
    assert settings["evaluation"] == {"val_seed": 0, "test_seed": 0}
    assert settings["training"]["threads"] == 2 and settings["sources"]["mnist"]["n_val"] == 12000


def test_command_line_strings_become_booleans_and_numbers():
    config = config_with(data={"root": "data", "allow_network": "false", "retries": "2"})
    assert Plan(config).config["data"] == {"root": "data", "allow_network": False, "retries": 2, "mirror": None}
    assert any("data.allow_network" in p and "boolean" in p for p in problems_of(config_with(data={"root": "d", "allow_network": "maybe"})))
    models = copy.deepcopy(CONFIG["models"])
    models["ald"]["group_params"]["SO3"] = {"latent_rms_norm": "false"}  # registry-declared schemas too
    assert Plan(config_with(models=models, sources__adrenalmnist3d={"size": "28"})).model_params("ald", "SO3")[
        "latent_rms_norm"] is False


@pytest.mark.parametrize("changes, expected", [
    ({"bogus_key": 1}, "bogus_key: unknown key; allowed here:"),
    ({"training__epochs": "ten"}, "training.epochs: 'ten' is not of type integer"),
    ({"groups": ["C4", "SO7"]}, "groups: unknown group 'SO7'; known: C4, "),
    ({"datasets__rotated_mnist__recipe": {"kind": "smoke"}}, "datasets.rotated_mnist.recipe.kind: unknown pair recipe 'smoke'"),
    ({"datasets__rotated_mnist__recipe": {"kind": "occluder", "size": 0}}, "datasets.rotated_mnist.recipe.size"),
    ({"models__ald__params__tua": 0.3}, "models.ald.params.tua: unknown key"),
    ({"models__ald__params__tau": "high"}, "models.ald.params.tau: 'high' is not of type number"),
    ({"models__ald__group_params": {"SO2": {"latent_rms_norm": "maybe"}}}, "models.ald.group_params.SO2.latent_rms_norm"),
    ({"models__ald__params__kind": "beta_vae"}, "models.ald.params.kind: unknown model kind 'beta_vae'"),
    ({"tau_sweep__datasets": ["rotated_fashion"]}, "tau_sweep.datasets: 'rotated_fashion' is not configured under `datasets`"),
    ({"sources__mnist__n_vla": 3}, "sources.mnist.n_vla: unknown key"),
    ({"models__ald__paper_column": "ALD"}, "models.ald.paper_column: 'ALD' is not one of ['EquivNR', 'InfoGAN-CR', "
                                           "'CausalVAE', 'MAGANet', 'GALR', 'Ours', None]"),
    ({"datasets__rotated_mnist__paper_row": "MNIST"}, "datasets.rotated_mnist.paper_row: 'MNIST' is not one of "
                                                      "['RMNIST', 'RBMN', 'Adrenals', 'Brains', 'Airplanes', None]"),
])
def test_each_problem_is_one_line_naming_key_and_fix(changes, expected):
    problems = problems_of(config_with(**changes))
    assert len(problems) == 1 and problems[0].startswith(expected), problems
    assert "Fix:" in problems[0] or "size" in expected  # jsonschema's own wording for bounds names the bound


def test_each_dataset_trains_under_the_listed_groups_of_its_dimension():
    plan = Plan(config_with(groups=["C4", "SO3"]))  # the 3-D group is for the volume dataset only
    assert {(r.dataset, r.group) for r in plan.main_runs()} == {
        ("rotated_mnist", "C4"), ("rotated_blocked_mnist", "C4"), ("adrenal", "SO3")}
    assert {(r["group"], r["data"]) for r in plan.parameter_rows()} == {
        ("C4", "1 channel(s), 2-D"), ("SO3", "1 channel(s), 3-D")}


def test_a_group_list_with_no_group_for_the_data_is_refused():
    problems = problems_of(config_with(groups=["O", "SO3"]))
    assert problems == [f"groups: none of ['O', 'SO3'] acts on dataset {d}, which is 2-D. Fix: add a 2-D group (C4, SO2)"
                        for d in ("rotated_mnist", "rotated_blocked_mnist")]


def test_only_datasets_selects_runs_and_notes():
    plan = Plan(config_with(only_datasets=["rotated_blocked_mnist"]))
    assert {r.dataset for r in plan.main_runs() + plan.ablation_runs()} == {"rotated_blocked_mnist"}
    assert list(plan.figure_inputs("figure2")) == ["rotated_blocked_mnist"]
    assert "data source(s): mnist (n_val 12000, split_seed 42);" in plan.table_notes("table1")[0]


def test_targets_are_the_tables_and_figures_and_their_inputs():
    plan = Plan(CONFIG)
    assert list(plan.targets()) == ["table1", "table2", "table3", "parameters", "figure2", "figure3", "figure4", "renders",
                                   "figure5", "swap", "angles", "curves", "claims", "summary"]
    # airplanes is left out (no ShapeNet / SWIMSEG folders), so `all` leaves out its figures and says why
    assert not any("figure4" in f or "renders" in f for f in plan.default_targets())
    assert "sources.airplanes.shapenet: no folder given" in plan.missing_figure_reason("figure4")
    assert plan.targets()["table1"] == ["results/tables/table1.csv", "results/tables/table1.md", "results/tables/table1.tex"]
    assert plan.targets()["summary"] == ["results/summary.md"] and "results/summary.md" in plan.default_targets()
    assert len(plan.table_inputs("table1")) == 108 and plan.table_inputs("table3")[0].startswith("results/probes/")
    assert {p.split("/")[4] for p in plan.table_inputs("table3")} == {"ald"}  # probes.models: [ald]
    assert plan.figure_input_files("swap") == ["results/models/adrenal/O/ald/seed42/best.pt",
                                               "results/models/adrenal/O/ald/seed42/run.json",
                                               "results/models/rotated_blocked_mnist/C4/ald/seed42/best.pt",
                                               "results/models/rotated_blocked_mnist/C4/ald/seed42/run.json"]
    curves = plan.figure_inputs("figure3")  # one curve per dataset and seed, each dataset under its own group
    assert curves["rotated_mnist C4 seed42"]["0.5"] == "results/probes/rotated_mnist/C4/ald/seed42.json"
    assert curves["adrenal O seed44"]["0.5"] == "results/probes/adrenal/O/ald/seed44.json"
    assert len(curves) == 3 * 3 and all(len(sweep) == 9 for sweep in curves.values())
    angles = plan.figure_inputs("angles")  # the method under continuous groups, every seed, per figures.angle_datasets
    assert list(angles) == ["rotated_mnist", "rotated_blocked_mnist", "adrenal"]
    assert angles["rotated_mnist"]["SO2"]["43"] == "results/angles/rotated_mnist/SO2/ald/seed43.json"
    assert list(angles["adrenal"]) == ["SO3"] and len(plan.figure_input_files("angles")) == 9  # O turns exactly


def test_profiles_are_overlays_that_resolve():
    overlays = ("profiles/reduced/reduced.yaml", "profiles/demo/demo.yaml", "profiles/paper/cpu.yaml",
                "profiles/paper/c4_rmsnorm.yaml", "profiles/paper/adrenal28.yaml", "profiles/gpu/gpu.yaml")
    for overlay in overlays:
        config = copy.deepcopy(CONFIG)
        merge(config, yaml.safe_load((REPO / overlay).read_text()))
        assert Plan(config).main_runs(), overlay


def test_a_gated_dataset_is_left_out_with_a_note_until_its_terms_are_accepted():
    plan = Plan(CONFIG)
    assert "brains" not in plan.datasets and "brains" not in {r.dataset for r in plan.main_runs()}
    assert any(n.startswith("Dataset brains (paper row Brains) is not in this table: sources.oasis.accept_terms")
               for n in plan.table_notes("table2"))
    accepted = Plan(config_with(sources__oasis__accept_terms=True))
    assert {r.group for r in accepted.main_runs() if r.dataset == "brains"} == {"O", "SO3"}
    assert "brains" not in accepted.left_out


def airplanes_config(**changes):
    meshes, skies = require_renders()
    return config_with(sources__airplanes__shapenet=str(meshes), sources__airplanes__swimseg=str(skies), **changes)


def test_airplanes_are_left_out_until_their_folders_are_given_and_say_where_to_request_them():
    plan = Plan(CONFIG)
    reason = plan.left_out["airplanes"]
    assert "https://shapenet.org/" in reason and "sources: {airplanes: {shapenet: /path/to/it}}" in reason
    problems = problems_of(config_with(only_datasets=["airplanes"], sources__airplanes__shapenet="/x"))
    assert problems[0].startswith("sources.airplanes.shapenet: /x is not a folder")


def test_an_empty_airplanes_folder_fails_before_any_job(tmp_path):
    problems = problems_of(config_with(sources__airplanes__shapenet=str(tmp_path), sources__airplanes__swimseg=str(tmp_path)))
    assert len(problems) == 2 and all("holds no" in p for p in problems)
    assert "02691156/*/models/model_normalized.obj" in problems[0] and "CC BY-NC 4.0" in problems[1]


def test_airplanes_train_only_under_their_rendered_group_with_their_model_overrides():
    plan = Plan(airplanes_config())
    runs = [r for r in plan.main_runs() if r.dataset == "airplanes"]
    assert {(r.group, r.model) for r in runs} == {("SO3", "ald")}  # groups [C4, SO2, O, SO3]; models: [ald]
    assert not [r for r in plan.ablation_runs() if r.dataset == "airplanes"]  # ablations.groups [C4, O]
    assert "airplanes" not in plan.figure_inputs("figure2")
    assert plan.train_spec(runs[0])["model"]["lift_depth"] == 16
    assert plan.figure_inputs("figure4") == {"airplanes": "results/models/airplanes/SO3/ald/seed42"}
    assert plan.figure_inputs("renders") == {"airplanes": "data/prepared/airplanes.npz"}
    assert any("lift_depth 16" in r["data"] for r in plan.parameter_rows())
    bad = problems_of(airplanes_config(datasets__airplanes__model_params={"latent_channel": 8}))
    assert bad[0].startswith("datasets.airplanes.model_params (for model ald).latent_channel: unknown key")
    wrong = problems_of(airplanes_config(groups=["C4", "O"]))
    assert wrong == ["groups: none of ['C4', 'O'] acts on dataset airplanes, which is 2-D renders related by SO3. Fix: add SO3"]


def test_naming_a_gated_dataset_without_accepting_its_terms_is_refused():
    problems = problems_of(config_with(only_datasets=["adrenal", "brains"]))
    assert len(problems) == 1 and problems[0].startswith("only_datasets: brains: sources.oasis.accept_terms:")
    assert "Fix: read them, then set `sources: {oasis: {accept_terms: true}}`" in problems[0]


def test_an_unlabelled_dataset_is_trained_but_not_probed():
    plan = Plan(config_with(sources__oasis__accept_terms=True))
    assert not plan.labelled("brains") and plan.labelled("adrenal")
    assert not [f for f in plan.table_inputs("table3") if "/brains/" in f]
    assert [f for f in plan.table_inputs("table1") if "/brains/" in f]
    assert any("brains is not probed" in n for n in plan.table_notes("table3"))
    problems = problems_of(config_with(sources__oasis__accept_terms=True, tau_sweep__datasets=["brains"]))
    assert problems == ["tau_sweep.datasets: brains has no class labels (source oasis), and the sweep is read by "
                        "probes. Fix: remove it from tau_sweep.datasets"]


def test_figures_show_each_dataset_under_the_first_group_of_its_dimension():
    inputs = Plan(CONFIG).figure_inputs("figure5")
    assert inputs == {"adrenal": "results/models/adrenal/O/ald/seed42",
                      "rotated_blocked_mnist": "results/models/rotated_blocked_mnist/C4/ald/seed42"}


def test_the_curves_read_one_history_per_main_run_and_no_checkpoint():
    plan = Plan(CONFIG)
    inputs = plan.figure_inputs("curves")
    assert inputs["rotated_mnist C4"]["galr"]["43"] == "results/models/rotated_mnist/C4/galr/seed43/history.csv"
    assert len(inputs) == 3 * 2 and all(len(seeds) == 3 for runs in inputs.values() for seeds in runs.values())
    assert plan.figure_input_files("curves") == [f"{plan.run_dir(r)}/history.csv" for r in plan.main_runs()]


def test_a_dataset_may_train_fewer_models_and_table1_says_so():
    plan = Plan(config_with(datasets__adrenal__models=["ald"]))
    assert {r.model for r in plan.main_runs() if r.dataset == "adrenal"} == {"ald"}
    assert {r.model for r in plan.main_runs() if r.dataset == "rotated_mnist"} == {"ald", "galr", "equivnr", "infogan_cr",
                                                                                 "causalvae", "maganet"}
    assert "adrenal: only ald (datasets.adrenal.models); the other columns show —." in plan.table_notes("table1")
    problems = problems_of(config_with(datasets__adrenal__models=["alt"]))
    assert problems[0].startswith("datasets.adrenal.models: 'alt' is not configured under `models`")


def test_not_run_leaves_runs_out_with_the_first_matching_reason():
    plan = Plan(config_with(not_run=[
        {"reason": "needs a GPU", "datasets": ["adrenal"]},
        {"reason": "seed 44 later", "models": ["galr"], "seeds": [44]},
        {"reason": "baselines later", "models": ["galr", "equivnr", "infogan_cr", "causalvae", "maganet"]},
        {"reason": "no checkpoint", "parts": ["analyses"], "models": ["ald"], "groups": ["C4"]},
    ]))
    kept = plan.main_runs()
    assert {r.model for r in kept} == {"ald"} and "adrenal" not in {r.dataset for r in kept}
    reasons = {r.key: why for r, why in plan.left_out_runs("main")}
    assert reasons["adrenal/O/galr/seed44"] == "needs a GPU"  # the first entry that matches
    assert reasons["rotated_mnist/SO2/galr/seed44"] == "seed 44 later"
    assert reasons["rotated_mnist/C4/galr/seed42"] == "baselines later"
    assert len(plan.configured_runs("main")) == len(kept) + len(reasons)
    # Table 1 names every left-out cell; Table 3 also the runs whose checkpoint is not here
    assert len(plan.table_left_out("table1")) == len(reasons)
    table3 = {(e["dataset"], e["group"], e["seed"]): e["reason"] for e in plan.table_left_out("table3")}
    assert table3[("rotated_mnist", "C4", 42)] == "no checkpoint" and ("rotated_mnist", "SO2", 42) not in table3
    assert all("/C4/" not in f for f in plan.table_inputs("table3"))
    # figures drop the panels they cannot draw and say why
    assert plan.figure_inputs("figure5") == {}
    assert plan.figure_left_out("figure5") == ["adrenal: needs a GPU", "rotated_blocked_mnist: no checkpoint"]
    assert "Not shown: adrenal: needs a GPU" in plan.figure_note("figure5")
    assert not any("adrenal" in key for key in plan.claims_checks())


def test_figure3_names_each_left_out_tau_point_once_grouping_seeds_that_miss_the_same_taus():
    plan = Plan(config_with(not_run=[
        {"reason": "needs a GPU", "datasets": ["adrenal"]},
        {"reason": "seed 44 later", "parts": ["tau_sweep"], "datasets": ["rotated_mnist"], "seeds": [44],
         "models": ["ald-tau0.2", "ald-tau0.7"]},
    ]))
    assert plan.figure_left_out("figure3") == [
        "adrenal O seeds 42, 43, 44 (every tau): needs a GPU",
        "rotated_mnist C4 seed 44 (tau 0.2, 0.7): seed 44 later",
    ]
    assert set(plan.figure_inputs("figure3")) == {f"{d} C4 seed{s}" for d in ("rotated_mnist", "rotated_blocked_mnist")
                                                  for s in (42, 43, 44)}


def test_a_model_without_a_paper_column_is_a_model_of_our_own():
    """paper_column is optional: such a model trains like any other, its runs carry no paper column."""
    models = {**CONFIG["models"], "ald_small": {"params": {"kind": "ald", "latent_channels": 16}}}
    plan = Plan(config_with(models=models))
    assert plan.identity(Run("rotated_mnist", "C4", "ald_small", 42))["paper_column"] is None
    assert plan.identity(Run("rotated_mnist", "C4", "ald", 42))["paper_column"] == "Ours"
    assert any("headed '<model> (ours only)'" in note for note in plan.table_notes("table1"))
    assert not any("(ours only)" in note for note in Plan(copy.deepcopy(CONFIG)).table_notes("table1"))
