"""How isolement talks to a device: the SSH session behind the drivers' Session protocol,
host keys verified."""
