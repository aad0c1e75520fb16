"""Adapters to heavy libraries. Each imports its library inside functions, never at module level."""
