"""Citation files: one reader per format, one importer, duplicates found and reported."""
