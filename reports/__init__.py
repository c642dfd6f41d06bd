"""Sessions, funnels and abandonment reports, built on collector's schema and store."""
