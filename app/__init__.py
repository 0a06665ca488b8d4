"""The BraTS viewer desktop application (Qt front end over the Qt-free state and tools)."""

__version__ = "0.1.0"
