# expect: clean
"""A package whose helpers open connections in one module and are used in others."""
