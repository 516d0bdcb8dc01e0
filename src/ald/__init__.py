"""Reproduction of "Learning Group Actions In Disentangled Latent Image Representations" (ALD).

Imports flow one way: paper outputs -> training / evaluation / probes -> models / pairs / sources -> groups.
``plan`` turns the workflow config into runs and targets; ``cli`` is the thin command line the rules call.
"""
