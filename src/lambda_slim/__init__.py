"""lambda-slim: the smallest AWS Lambda deployment package for a Python project that still works."""

__version__ = "0.1.0"
