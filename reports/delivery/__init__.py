"""Delivering a finished report: its targets, and a folder, a webhook or e-mail."""
