import pytest


@pytest.fixture(autouse=True)
def _photo_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("QIJIA_PHOTO_CACHE", str(tmp_path / "photo-cache"))
