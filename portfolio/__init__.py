"""The domain: pure computation on plain data, and one use-case function per action.

Nothing here imports Flask (tests/test_layering.py enforces it).
"""
