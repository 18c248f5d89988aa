"""The version, in a module of its own: the package's __init__ imports the whole public API, and every module that
names the version can import it from here without importing that API first."""

__version__ = "0.1.0"
