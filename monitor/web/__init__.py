"""Serving the board to web browsers (`callboard web`)."""
