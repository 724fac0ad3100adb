"""The benchmark harness: named variants, presets, the grid runner and the leaderboard.

The systems themselves (one module each) live in ``training/systems/`` because the trainer, an earlier
stage, resolves them by name; this package only expands grids over them and tabulates their results.
"""
