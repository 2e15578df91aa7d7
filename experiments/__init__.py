"""One script per table or figure of the paper, and the solver and memory studies, on one shared harness.

Each module is also a ``graphcon-ode`` verb and runs as ``python -m experiments.<name>``.
"""
