"""The settings two versions of a business file differ in, by dotted name (a policy, a data contract)."""

from __future__ import annotations


def changed_settings(before: dict, after: dict) -> dict[str, dict]:
    """Each setting whose value differs, by dotted name: {"thresholds.decline_at": {"from": 0.4, "to": 0.35}}."""
    flat_before, flat_after = flat_settings(before), flat_settings(after)
    return {
        name: {"from": flat_before.get(name), "to": flat_after.get(name)}
        for name in sorted(set(flat_before) | set(flat_after))
        if flat_before.get(name) != flat_after.get(name)
    }


def flat_settings(value, prefix: str = "") -> dict:
    """Nested mappings as one mapping of dotted names; lists stay whole (a list is one setting)."""
    if isinstance(value, dict):
        out: dict = {}
        for key, item in value.items():
            out.update(flat_settings(item, f"{prefix}{key}."))
        return out
    if isinstance(value, (list, tuple)):
        return {prefix[:-1]: [flat_settings(item) if isinstance(item, dict) else item for item in value]}
    return {prefix[:-1]: value if isinstance(value, (int, float, str, bool, type(None))) else str(value)}
