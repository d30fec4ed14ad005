"""The package's public surface: everything in engine.__all__ exists, and the list is sorted."""

import engine


def test_all_is_complete_and_sorted() -> None:
    assert engine.__all__ == sorted(engine.__all__)
    for name in engine.__all__:
        assert hasattr(engine, name), name
