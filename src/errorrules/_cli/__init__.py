"""Stage 13, the command line: the only package that parses argv.

Owns the ``errorrules`` command and its sub-commands. May import: every stage.
"""
