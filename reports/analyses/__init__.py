"""Analyses over the stored sessions: the funnel engine, its steps, table and statistics."""
