"""A business user changes a buffer in the browser: sign in, draft with a typo and see it at
its line, fix it, review the diff, preview the impact, publish, activate, see the explorer's
new number, roll back. A channel key is never shown the editor."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Served, check, sign_in

STORE_BUFFER = "actions: [{name: hold_back_units, params: {units: 2}}]"


def web_figure(page: Page, served: Served, sku: str) -> str:
    page.goto(f"{served.url}/console/availability?sku={sku}")
    return page.locator("td[data-channel='web']").inner_text()


def test_a_buffer_is_drafted_checked_previewed_published_activated_and_rolled_back(
        served, open_page):
    page = open_page
    page.goto(served.url + "/console/rules")
    expect(page).to_have_url(re.compile(r"/console/sign-in"))
    check(page, "sign-in")
    sign_in(page, served, "admin")
    check(page, "home")
    page.goto(served.url + "/console/rules")
    check(page, "rules")
    page.click("text=Draft from default@2")
    expect(page.locator("h1")).to_contain_text("Draft")
    text = page.input_value("#text")
    typo = text.replace("operator: equal_to, value: store", "operator: equals, value: store", 1)
    line = next(n for n, row in enumerate(typo.splitlines(), 1) if "equals" in row)
    page.fill("#text", typo)  # checked as it is typed: no save
    expect(page.locator("#report")).to_contain_text(f"Line {line}, column")
    check(page, "draft-with-a-typo")
    page.fill("#text", text.replace(STORE_BUFFER, STORE_BUFFER.replace("2", "5"), 1))
    expect(page.locator("#report")).to_contain_text("Valid: default@3")
    page.click("text=Save and check")
    expect(page.locator("pre.diff")).to_contain_text("units: 2 → 5")
    page.click("summary:has-text('Change values without YAML')")
    check(page)  # the form built from the vocabulary, open
    check(page, "draft-review")
    page.click("text=Preview the impact")
    web = page.locator("tr", has_text=re.compile(r"^\s*web"))
    expect(web.first).to_contain_text("-4")
    check(page, "impact")
    page.click("text=Back to the draft")
    page.click("text=Publish as default@3")
    expect(page.locator("h1")).to_contain_text("default@3")
    check(page, "version")
    page.click("text=Activate default@3")
    expect(page.locator(".active-ref")).to_have_text("default@3")
    assert web_figure(page, served, "A") == "25"
    check(page, "availability")
    page.goto(served.url + "/console/rules")
    page.click("text=Roll back to default@2")
    expect(page.locator(".active-ref")).to_have_text("default@2")
    assert web_figure(page, served, "A") == "28"
    page.goto(served.url + "/console/operations")
    check(page, "operations")


def test_a_channel_key_is_not_shown_the_rules_editor(served, open_page):
    page = open_page
    sign_in(page, served, "channel:web")
    page.goto(served.url + "/console/rules")
    expect(page.locator("text=Draft from")).to_have_count(0)
    expect(page.locator("nav")).not_to_contain_text("Operations")
    response = page.goto(served.url + "/console/rules/default/drafts/1")
    assert response is not None and response.status == 403
    check(page)
    page.goto(served.url + "/console/rules/default/2")
    expect(page.locator(".explained")).to_contain_text(
        "web: when location type is store, keep 2 units back")
    check(page)
    page.goto(served.url + "/console/availability")
    page.fill("#q", "Alp")
    page.click("button:has-text('Find')")
    page.click("main li a:text-is('A')")
    expect(page.locator("td[data-channel='web']")).to_be_visible()
    expect(page.locator("td[data-channel='app']")).to_have_count(0)  # not its channel
    check(page)
