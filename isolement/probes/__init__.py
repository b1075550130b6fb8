"""Reachability probes: real packets that prove a cut (or a reopened path)."""
