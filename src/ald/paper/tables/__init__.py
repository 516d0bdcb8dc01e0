"""Result tables: our per-seed results aggregated to mean ± std, beside the paper's values, and the models'
parameter counts.

The table interface and registry are in ``base``, what the tables share (reading, aggregating, formatting,
writing) in ``frames``; each built-in table is one module, imported here in the order the tables are listed
(``ald.paper.TABLES``).

Add a table: one new file with a registered ``Table`` subclass (see ``base``), and its name below.
"""

from . import table1, table2, table3, parameters  # noqa: F401  (registers the built-in tables, in this order)
from .base import TABLES, Table, make_table, register_table  # noqa: F401
from .table3 import PROBE_INPUTS  # noqa: F401  (how the figures name the probes' inputs too)
