"""Use cases on the book: each takes a Session, calls the pure code, commits once."""
