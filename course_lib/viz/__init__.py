"""Plots for the course; each module is imported on its own (no re-exports here)."""
