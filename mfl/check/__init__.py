"""The checker (names, types, handler rules) and the lint warnings built on it."""
