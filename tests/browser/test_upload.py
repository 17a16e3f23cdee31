"""Upload a text file from the page and watch the file processor handle it."""

from __future__ import annotations

import pytest
from playwright.sync_api import FilePayload, Page, expect

from tests.browser import flows
from tests.browser.shopapi import unique

pytestmark = [pytest.mark.browser, pytest.mark.platform, pytest.mark.slow]


def test_upload_a_text_file_and_see_it_processed(shopper_page: Page) -> None:
    page = shopper_page
    flows.register(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Upload", exact=True).click()
    marker = unique("upload")
    payload: FilePayload = {"name": f"{marker}.txt", "mimeType": "text/plain",
                            "buffer": f"hello {marker}\nsecond line\n".encode()}
    page.get_by_label("Text file").set_input_files(files=[payload])
    page.get_by_role("button", name="Upload").click()
    outcome = page.locator("#upload-status [role=alert], #upload-status .notice.success")
    expect(outcome).to_be_visible(timeout=60_000)  # processed, or an error shown to the user
    expect(outcome).to_contain_text("Processed")
    expect(page.locator("#upload-result .result")).not_to_be_empty()
