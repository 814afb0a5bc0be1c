"""Syntax: the MFL grammar, the parser and the AST (which imports nothing of the project)."""
