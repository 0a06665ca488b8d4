"""Wording shared by the session's messages."""


def plural(count: int, noun: str) -> str:
    """'1 edit', '2 edits', '0 voxels'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
