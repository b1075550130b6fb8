"""The journal: the append-only, hash-chained record of every decision and change."""
