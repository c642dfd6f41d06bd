"""Event schema, validation, the ingest app and the Redis store."""
