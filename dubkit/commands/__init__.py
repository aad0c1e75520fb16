"""Larger commands, one module each: `register(app)` adds the module's commands to the CLI.

Modules here must not import heavy libraries at module level (`dubkit --help` stays fast).
"""
