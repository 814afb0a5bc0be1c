"""Command-line front ends: ``mfl`` (modern) and ``mfld`` (mailfromd-compatible)."""
