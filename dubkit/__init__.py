"""dubkit: localise Chinese television programmes into Urdu."""

__version__ = "0.1.0"
