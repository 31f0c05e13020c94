import pytest

from refuje.common.testing.tenancy import tenant_world

__all__ = ["media_root", "tenant_world"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads land in a directory of their own, so a test can see every file that was stored."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    settings.MEDIA_URL = "/media/"
    return root


def stored_files(root):
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
