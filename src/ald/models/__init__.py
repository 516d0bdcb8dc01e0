"""The models: the interface and registry are in ``base``; each built-in model is one module, listed here.

Add a model: one new file with a registered ``GroupActionModel`` subclass (see ``base``), and its name below.
"""

from . import ald, causalvae, equivnr, galr, infogan_cr, maganet  # noqa: F401  (registers the built-in models)
from .base import (MODELS, GroupActionModel, SplitActionLosses, build_model, register_model,  # noqa: F401
                   split_action_losses)
