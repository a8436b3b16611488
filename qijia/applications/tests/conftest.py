import pytest

from qijia.applications.testing import make_world


@pytest.fixture
def world(db):
    from qijia.registry.categories import ensure_categories

    ensure_categories()  # transactional tests elsewhere flush the migration-seeded categories
    return make_world()


@pytest.fixture(autouse=True)
def _photo_cache(tmp_path, monkeypatch):
    from qijia.applications import photo_index

    monkeypatch.setenv("QIJIA_PHOTO_CACHE", str(tmp_path / "photo-cache"))
    # The process-wide index outlives a test's rolled-back rows; SQLite then hands the same ids
    # to the next test's photos, which the index would take for ones it already holds.
    photo_index.reset()
