"""The command line: argument parsing and rendering only; the work is done by the flows."""

import gc

# The cyclic collector at its default (a pass every 700 new objects) walked every object alive
# again and again while a 10,000-link inventory and its 5000-step plan were built: 0.5 of a
# `plan --offline`'s 1.85 CPU-s, for nothing to collect (those objects live until the command
# ends). mypy sets its threshold in the same way (mypy/main.py). Cycles are still collected:
# a long run's garbage (closed sessions) goes after 50,000 new objects instead of 700.
gc.set_threshold(50_000, 20, 20)
