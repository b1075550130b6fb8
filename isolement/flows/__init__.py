"""The runs: pre-flight, cut, restore, staged reconnection and verification, end to end."""
