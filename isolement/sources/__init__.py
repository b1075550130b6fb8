"""Inventories built from the sources of truth a team already has: NetBox, Ansible, Nornir and
containerlab. Each module reads one source into a writer.Draft; writer builds, checks and
writes the inventory, and lists what could not be mapped."""
