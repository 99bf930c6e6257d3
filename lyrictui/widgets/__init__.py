"""Reusable widgets, one per module, named after the module."""
