"""The figures engine: pure computation on the book as plain data (BookData)."""
