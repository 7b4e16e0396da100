"""Widgets of the wallboard; each renders part of a `Board` it is given."""
