"""The heavy book for benchmarks: portfolio.interchange.synthetic's generator, kept under
benchmarks/out/ by its size, and a Session holding it imported.

    from benchmarks.heavy_book import generate_heavy_book
    folder = generate_heavy_book()     # cached: regenerated only when asked for other sizes
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from portfolio.interchange.synthetic import generate_heavy_book as _generate

OUT = Path(__file__).resolve().parent / "out"


def generate_heavy_book(folder: str | Path | None = None, *, investments: int = 2000, flows: int = 100_000,
                        seed: int = 1, **sizes) -> Path:
    """The synthetic book in `folder`, or in benchmarks/out/ named by its size (and `_within` for
    one whose holdings are called within their commitments: `within_commitment=True`)."""
    within = "_within" if sizes.get("within_commitment") else ""
    target = Path(folder) if folder else OUT / f"heavy_{investments}_{flows}_{seed}{within}"
    return _generate(target, investments=investments, flows=flows, seed=seed, **sizes)


def timed(label: str, func):
    """Runs func, prints how long it took beside the label, returns its value."""
    import time

    start = time.perf_counter()
    value = func()
    print(f"  {label:44s} {time.perf_counter() - start:7.2f} s")
    return value


@contextmanager
def imported_heavy_book(investments: int = 2000):
    """A Session on a fresh SQLite file holding the heavy book (its import timed and printed)."""
    import tempfile

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from models import Base
    from portfolio.interchange.importing import import_book

    folder = generate_heavy_book(investments=investments)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        Base.metadata.create_all(engine)
        try:
            with Session(engine) as session:
                result = timed("import heavy book (SQLite)", lambda: import_book(session, folder, username="bench"))
                assert not result.errors, result.errors[:3]
                yield session
        finally:
            engine.dispose()


if __name__ == "__main__":
    import sys
    print(generate_heavy_book(sys.argv[1] if len(sys.argv) > 1 else None))
