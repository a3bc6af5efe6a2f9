"""SymPy derivations of the paper's results and the closed forms (theory.predictions) the rest of the suite uses.

Imports nothing of the suite: sim, cnn_experiments and reports build on it, never the reverse.
"""
from theory.predictions import effective_step, implicit_momentum  # noqa: F401
