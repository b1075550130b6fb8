"""Pure planning: inventory + playbook + observed state -> an ordered, per-device plan."""
