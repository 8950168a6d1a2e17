"""Reusable widgets of the curation TUI."""
