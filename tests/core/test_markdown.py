"""Bot notices carry HTML exactly when their markdown has markup."""

import pytest

from hookshot.core.markdown import notice_content


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("No webhooks configured", None),
        ("Tom & Jerry <3", None),
        ("two\nlines\n\nand a paragraph", None),
        ("a_snake_case_name", None),
        ("Use `!hookshot help`.", "<p>Use <code>!hookshot help</code>.</p>"),
        ("**Webhooks configured:**", "<p><strong>Webhooks configured:</strong></p>"),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
    ],
)
def test_notice_content(text: str, html: str | None) -> None:
    content = notice_content(text)
    assert content["msgtype"] == "m.notice" and content["body"] == text
    assert content.get("formatted_body") == html
    assert ("format" in content) == (html is not None)
