"""The scheduled report: its configuration, numbers, charts, files and schedule."""
