"""spec/ is a copy of the shared contract (../shared/spec) so that a clone runs its tests
anywhere. Where the shared contract is on this machine, the copy must be the same, file
for file, or the tests would check an old contract."""
from __future__ import annotations

import pytest

from tests.book_files import SHARED_SPEC, SPEC


def _files(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_copy_holds_the_contract():
    names = {str(p) for p in _files(SPEC)}
    assert {"metrics.md", "rules.md", "interchange.md", "example/expected.json",
            "example/book/investments.csv"} <= names


@pytest.mark.skipif(not SHARED_SPEC.is_dir(), reason="the shared contract is not on this machine")
def test_the_copy_is_the_shared_contract():
    shared, ours = _files(SHARED_SPEC), _files(SPEC)
    assert sorted(map(str, shared)) == sorted(map(str, ours)), "files added or removed: copy ../shared/spec again"
    changed = [str(name) for name in shared if shared[name] != ours[name]]
    assert not changed, f"spec/ differs from ../shared/spec in {changed}: copy it again"
