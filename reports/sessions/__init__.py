"""Sessions: their stored layout, the builder that writes them, the reader that loads them."""
