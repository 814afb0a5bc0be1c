"""mfl: a Python implementation of GNU mailfromd's Mail Filtering Language."""

__version__ = "0.1.0"
