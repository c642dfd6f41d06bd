"""The thin layer that composes the parts: CLI and process wiring."""
