"""A person's path through the site, in Debian's Chromium driven by Playwright."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def total(page) -> int:
    return int(page.locator(".summary .total").inner_text().replace(",", ""))


def search(page, base: str, q: str) -> None:
    page.goto(base + "/")
    box = page.get_by_label("検索語")
    assert box.evaluate("el => el === document.activeElement"), "the search box has focus"
    page.keyboard.type(q)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_search_refine_page_and_open(page, live_server):
    base = live_server.url
    search(page, base, "連携")
    assert page.locator("ol.hits > li").count() == 10
    assert page.locator("ol.hits mark").count() > 0
    before = total(page)

    facet = page.locator(".facet-municipality a").first
    with page.expect_navigation():
        facet.click()
    after = total(page)
    assert 0 < after < before
    assert page.locator(".chips .chip").count() == 1

    with page.expect_navigation():
        page.locator(".chips .chip").first.click()
    assert total(page) == before

    with page.expect_navigation():
        page.locator('.pager a[rel="next"]').click()
    assert "page=2" in page.url
    assert page.locator('.pager a[aria-current="page"]').inner_text() == "2"
    assert page.locator("ol.hits").get_attribute("start") == "11"

    title = page.locator("ol.hits .hit-title a").first
    name = title.inner_text()
    with page.expect_navigation():
        title.click()
    assert re.search(r"/passages/[^?]+\?q=", page.url)
    assert page.locator("h1").inner_text() == name
    assert page.locator(".passage .text mark").count() > 0
    assert page.locator(".neighbours li").count() > 1


def test_tetsudo_shows_the_kanmon_city_train_and_a_screenshot(page, live_server):
    search(page, live_server.url, "鉄道")
    hit = page.locator("ol.hits > li", has_text="関門シティ電車運行実現期成同盟会")
    assert hit.count() == 1
    assert "鉄道" in hit.locator("mark").all_inner_texts()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "results.png"), full_page=False)

    # Fonts: the page asks for a Japanese face that this machine has.
    family = page.locator("body").evaluate("el => getComputedStyle(el).fontFamily")
    assert "IPAGothic" in family
    assert page.evaluate("document.fonts.check('16px IPAGothic', '鉄道')")


def test_phone_width_has_no_horizontal_scroll(browser, live_server):
    context = browser.new_context(locale="ja-JP", viewport={"width": 375, "height": 740},
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/?q=%E9%89%84%E9%81%93")  # 鉄道
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375
        facets = page.locator("#facets").bounding_box()
        results = page.locator(".results").bounding_box()
        assert facets["y"] > results["y"], "facets follow the results on a phone"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "results-phone.png"))
        hit = page.locator("ol.hits .hit-title a").first
        with page.expect_navigation():
            hit.click()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.screenshot(path=str(ARTIFACTS / "passage-phone.png"), full_page=True)
    finally:
        context.close()


def test_no_hits(page, live_server):
    search(page, live_server.url, "ぬぬぬぬぬ")
    empty = page.locator(".empty")
    assert "見つかりませんでした" in empty.inner_text()
    assert "ぬぬぬぬぬ" in empty.inner_text()
    assert page.locator("ol.hits").count() == 0


def test_bad_page_number_shows_an_error(page, live_server):
    response = page.goto(live_server.url + "/?q=%E9%89%84%E9%81%93&page=abc")
    assert response.status == 400
    assert "ページ番号" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("検索語").input_value() == "鉄道"


def test_works_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False, locale="ja-JP")
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        page.get_by_label("検索語").fill("消防")
        with page.expect_navigation():
            page.get_by_role("button", name="検索").click()
        assert total(page) > 0
        assert page.locator("ol.hits mark").count() > 0
    finally:
        context.close()
