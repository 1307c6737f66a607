"""meshlint: catch service-mesh footguns before they reach production."""

__version__ = "0.1.0"
