"""Benchmark systems (one module each), the grid runner and the leaderboard."""
