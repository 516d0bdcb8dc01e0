"""Drawing helpers every figure shares: saving with the settings note, picture panels (``unit``, ``show``,
``image_grid``), a blank prediction flagged in its panel, the placeholder of a figure with nothing to draw, and a
trained run's model and test pairs (PNG for reading, PDF for print)."""

from __future__ import annotations

from pathlib import Path

from .lazy import np, plt, textwrap, torch  # noqa: F401  (torch: in annotations)


def save(fig, paths: list[Path], note: str = "") -> None:
    """Write the figure to each of ``paths`` (PNG at 150 dpi, PDF as vectors), ``note`` (the settings that made
    it) in its bottom-left corner."""
    if note:  # under everything drawn, legends outside the axes included
        fig.draw_without_rendering()  # lays the panels out, then freezes them: the note must not move a legend onto it
        fig.set_layout_engine("none")
        renderer = fig.canvas.get_renderer()
        for legend in fig.legends:  # pinned where the layout put it, not to the figure's edge (which the note moves)
            legend.set_bbox_to_anchor(legend.get_window_extent(renderer).transformed(fig.transFigure.inverted()),
                                      transform=fig.transFigure)
            legend.set_loc("center")
        drawn = fig.get_tightbbox(renderer)
        fig.text(drawn.x0 / fig.get_figwidth(), (drawn.y0 - 0.04) / fig.get_figheight(), textwrap.fill(note, 160),
                 fontsize=6, color="0.3", ha="left", va="top", transform=fig.transFigure)
    for path in map(Path, paths):
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)


def placeholder_figure(figure: str, left_out: list[str], paths: list[Path], note: str = "") -> None:
    """A figure whose every panel is left out of this results folder: it says which and why, in place of panels."""
    lines = "\n".join(textwrap.fill(line, 110) for line in left_out)
    fig, ax = plt.subplots(figsize=(9, 0.1 + 0.14 * (2 + lines.count("\n"))))  # as tall as its lines of text
    ax.set_position([0.01, 0.0, 0.98, 1.0])
    ax.axis("off")
    ax.text(0, 1, f"{figure}: nothing to draw in this results folder; every panel is left out:\n{lines}",
            fontsize=8, va="top", ha="left", transform=ax.transAxes)
    save(fig, paths, note.split(" Not shown:")[0])


def model_and_pairs(run_dir: str, test_seed: int):
    """A trained run's model and its test pairs (drawn with ``test_seed``)."""
    from ...training import load_run

    run = load_run(run_dir)
    return run.model, run.pairs("test", test_seed)


def middle_slice(a: np.ndarray, spatial_dims: int) -> np.ndarray:
    """Images pass through; a volume (..., D, H, W) shows its three middle slices side by side
    (across D, H and W in that order), each padded to the tallest."""
    if spatial_dims != 3:
        return a
    d, h, w = a.shape[-3:]
    slices = [a[..., d // 2, :, :], a[..., :, h // 2, :], a[..., :, :, w // 2]]
    height = max(s.shape[-2] for s in slices)
    pad = lambda s: np.pad(s, [(0, 0)] * (s.ndim - 2) + [(0, height - s.shape[-2]), (0, 1)])
    return np.concatenate([pad(s) for s in slices], axis=-1)[..., :-1]


def unit(img: torch.Tensor) -> np.ndarray:
    """A batch of one item (1, C, *spatial) in [-1, 1] as a picture in [0, 1]: (H, W) for one channel,
    (H, W, 3) for RGB; volumes show their three middle slices."""
    if img.dim() not in (4, 5) or len(img) != 1:
        raise ValueError(f"unit() draws a batch of one item (1, C, *spatial), got shape {tuple(img.shape)}")
    a = img[0].detach().cpu().numpy()
    a = middle_slice(((a + 1) / 2).clip(0, 1), a.ndim - 1)
    return a[0] if a.shape[0] == 1 else np.moveaxis(a, 0, -1)


def abs_error(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """|pred - truth| per pixel, averaged over colour channels."""
    error = np.abs(pred - truth)
    return error.mean(-1) if error.ndim == 3 else error


def show(ax, image, title=None, **kwargs):
    ax.imshow(image, cmap=kwargs.pop("cmap", "gray"), vmin=kwargs.pop("vmin", 0), vmax=kwargs.pop("vmax", 1), **kwargs)
    ax.set_xticks([]), ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


EMPTY_RANGE = 0.05  # an output whose inside spans less than this of [0, 1] reads as blank
EMPTY_TEXT = "prediction empty:\nuntrained at this budget"


def spread(picture: torch.Tensor, border: int = 2) -> float:
    """How far a batch of one picture (1, C, *spatial) in [-1, 1] spans [0, 1] away from its border (where an
    untrained decoder's padding leaves bright artefacts), from its 0.1th to its 99.9th percentile."""
    inside = ((picture[0] + 1) / 2).clamp(0, 1)
    if min(inside.shape[1:]) > 4 * border:
        inside = inside[(slice(None),) + (slice(border, -border),) * (inside.dim() - 1)]
    low, high = np.quantile(inside.detach().cpu().numpy(), [0.001, 0.999])
    return float(high - low)


def is_empty(prediction: torch.Tensor, reference: torch.Tensor) -> bool:
    """Whether a model's output (in [-1, 1], as ``unit`` takes it) is (near) constant while the picture it should
    match is not. Judged on the whole output, not on the slices a volume shows."""
    return spread(prediction) < EMPTY_RANGE <= spread(reference)


def show_prediction(ax, prediction: torch.Tensor, reference: torch.Tensor, title=None) -> bool:
    """``show`` a model's output; a blank one is flagged in the panel (``is_empty``), not left as a black box."""
    show(ax, unit(prediction), title)
    empty = is_empty(prediction, reference)
    if empty:
        ax.text(0.5, 0.5, EMPTY_TEXT, ha="center", va="center", fontsize=6, color="tab:orange", transform=ax.transAxes)
    return empty


def image_grid(aspects: list[float], n_cols: int, cell: float, extra_width: float = 0.0, top: float = 0.3):
    """A grid of picture panels with no gaps: row r is ``aspects[r]`` (height / width of its pictures) times as
    tall as a column is wide, so that a volume's strip of three slices gets a thin row, not a square one."""
    fig, axes = plt.subplots(len(aspects), n_cols, figsize=(cell * n_cols + extra_width, cell * sum(aspects) + top),
                             squeeze=False, layout="constrained", gridspec_kw=dict(height_ratios=aspects))
    fig.get_layout_engine().set(w_pad=0.01, h_pad=0.01, wspace=0.02, hspace=0.02)
    return fig, axes


def aspect(image: np.ndarray) -> float:
    return image.shape[0] / image.shape[1]


def variant_summary(model) -> str:
    d = model.diagnostics()
    return f"{d['n_variant']} of {d['n_channels']} channels variant"
