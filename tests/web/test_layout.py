"""The search page's layout in headless Chromium at a phone's width (390 px) and a laptop's
(1280 px): the results column takes the screen, nothing scrolls sideways, the facets sit
beside the results only when there is room."""

from __future__ import annotations

from typing import Any

import pytest

from tests.alerts.test_browser import browser
from tests.web.conftest import LiveServer

__all__ = ["browser"]
pytestmark = pytest.mark.parametrize("seeded", ["sqlite"], indirect=True)


def _box(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return dict(box)


@pytest.mark.parametrize("path", ["/", "/?view=signals", "/?q=Dushanbe", "/sources"])
@pytest.mark.parametrize("width", [390, 1280])
def test_layout_fits_the_screen(browser: Any, live: LiveServer, width: int, path: str) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(live.base + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "scrolls sideways"
        if path == "/sources":
            return
        results, facets = _box(page, "section.results"), _box(page, "aside.facets")
        if width == 390:
            assert results["width"] >= 350  # was ~80 px: squeezed beside the facets
            assert facets["y"] + facets["height"] <= results["y"] + 1  # facets above
        else:
            assert results["width"] >= 800
            assert facets["x"] + facets["width"] <= results["x"]  # facets beside
        first = page.locator("section.results li").first
        assert first.bounding_box()["width"] >= results["width"] - 2
    finally:
        page.close()
