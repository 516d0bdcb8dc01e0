"""The sources: the interface and registry are in ``base``; each built-in source is one module, listed here.

Add a source: one new file that registers a ``Source`` (see ``base``), and its name below.
"""

from . import adrenal, airplanes, folder, glyphs, mnist, oasis, toy_airplanes, volumes  # noqa: F401  (registers the built-in sources)
from .base import (SOURCES, SPLITS, Source, TermsNotAccepted, check_layout, check_terms, fit_to_size,  # noqa: F401
                   get_source, load_split, prepare, register_source, save_source)
