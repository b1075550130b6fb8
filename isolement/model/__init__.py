"""What isolement knows, as typed values with no I/O: inventory, playbooks, device state,
plans, names, errors."""
