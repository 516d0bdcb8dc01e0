"""The paper's outputs: its published values (``values``), our tables (``tables``) and figures (``figures``).

These read only the files the pipeline wrote (metrics, probes, run records and trained runs).
"""
