"""The one error type of the registry: says what is wrong and what to do."""

from __future__ import annotations


class RegistryError(ValueError):
    """A registry operation was refused or failed; the registry is unchanged."""
