"""Regional mode: one isolement controller per region, each on its own NATS leaf node, fed by
one order from the crisis cell and merged back into one record at the hub (issue #16)."""
