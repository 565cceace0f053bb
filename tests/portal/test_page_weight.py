"""The portal is quick on a slow connection: no public page weighs more than 500 KB on its first load — its
HTML, the stylesheets it links, the images it shows and those the stylesheets use — documents aside; and
every guide screenshot stays under 120 KB."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

from tests.portal.test_public_pages import phase, public_urls, world  # noqa: F401  (fixtures)

PAGE_BUDGET = 500 * 1024
SCREENSHOT_BUDGET = 120 * 1024
GUIDES = ("register", "bid", "sign", "track")


def static_file(url: str) -> Path:
    assert url.startswith(settings.STATIC_URL), f"{url} is not a static file"
    found = finders.find(url.removeprefix(settings.STATIC_URL).split("?", 1)[0])
    assert found, f"{url} is referenced but does not exist"
    return Path(found)


def first_load_bytes(html: str) -> tuple[int, list[str]]:
    """The bytes a browser fetches to show the page: the HTML, its stylesheets, their images, its images."""
    total = len(html.encode())
    fetched: list[str] = []
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    images = re.findall(r'<img [^>]*src="([^"]+)"', html)
    for url in stylesheets:
        path = static_file(url)
        css = path.read_text()
        images += [
            urljoin(url, ref) for ref in re.findall(r"url\([\"']?([^\"')]+)", css) if not ref.startswith("data:")
        ]
        total += path.stat().st_size
        fetched.append(url)
    for url in dict.fromkeys(images):
        total += static_file(url).stat().st_size
        fetched.append(url)
    return total, fetched


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_no_public_page_weighs_more_than_500_kb_on_first_load(client, world, programme, lang):  # noqa: F811
    urls = [url for url in public_urls(world, programme, lang) if "/feeds/" not in url]
    urls += [f"/{lang}/portal/guides/"] + [f"/{lang}/portal/guides/{slug}/" for slug in GUIDES]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        weight, fetched = first_load_bytes(response.content.decode())
        assert any(name.endswith(".css") for name in fetched), url
        assert weight <= PAGE_BUDGET, f"{url} weighs {weight} bytes with {fetched}"


def test_the_guides_show_screenshots_and_count_them_in_the_weight(client):
    weight, fetched = first_load_bytes(client.get("/en/portal/guides/bid/").content.decode())
    assert [name for name in fetched if name.endswith(".png")], "the guide shows no screenshot"
    assert weight > sum(static_file(name).stat().st_size for name in fetched if name.endswith(".png"))


def test_every_guide_screenshot_is_small():
    screenshots = sorted((Path(settings.BASE_DIR) / "static" / "guides").rglob("*.png"))
    assert {path.parent.name for path in screenshots} == {"en", "ar"}
    for path in screenshots:
        assert path.read_bytes().startswith(b"\x89PNG"), path
        assert path.stat().st_size < SCREENSHOT_BUDGET, f"{path} is {path.stat().st_size} bytes"
