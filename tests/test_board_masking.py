"""Masking numbers for open-plan screens, and cleaning untrusted text for display."""

from __future__ import annotations

import pytest
from rich.text import Text

from monitor.text.masking import mask_number
from monitor.text.safe_text import DISPLAY_LIMIT, clean


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("+14155550101", "+1 415 ••• ••01"),
        ("+1 (415) 555-0101", "+1 415 ••• ••01"),
        ("+442071230105", "+44 207 ••• ••05"),
        ("+33142680115", "+33 142 •• ••15"),
        ("04155550101", "041 •••• ••01"),
        ("12345", "12345"),  # too short to be a phone number
        ("anonymous", "anonymous"),
        ("Ana Lopez", "Ana Lopez"),
        ("sip:4155550101@pbx", "sip:415 ••• ••01@pbx"),
        (
            "call from +442079460025 to +14155550000",
            "call from +44 207 ••• ••25 to +1 415 ••• ••00",
        ),
    ],
)
def test_mask_number(raw: str, masked: str) -> None:
    assert mask_number(raw) == masked


def test_masking_keeps_no_hidden_digit() -> None:
    masked = mask_number("+14155550199")
    assert "555" not in masked and "01" not in masked.replace("••", "")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("[bold]x[/bold]", "[bold]x[/bold]"),
        ("\x1b[2J\x1b[Hcleared", "cleared"),
        ("\x1b]0;title\x07text", "text"),
        ("\x1b]8;;http://evil\x1b\\link", "link"),
        ("a\x00b", "a\ufffdb"),
        ("a\tb\nc", "a b c"),
        ("\x9b31mred", "red"),
        ("\x85next", "\ufffdnext"),
        ("\u202eevil\u202c", "evil"),
        ("\u2067isolate\u2069", "isolate"),
        ("مرحبا", "مرحبا"),
        ("👩‍👩‍👧 📞", "👩👩👧 📞"),  # joiners dropped: widths stay predictable
        ("", ""),
        (None, ""),
    ],
)
def test_clean(raw: str | None, shown: str) -> None:
    assert clean(raw) == shown


def test_clean_caps_length_and_marks_the_cut() -> None:
    text = clean("9" * 10_240)
    assert len(text) == DISPLAY_LIMIT
    assert text.endswith("…")
    assert clean("x" * 10, limit=5) == "xxxx…"
    assert clean("x" * 10_000, limit=None) == "x" * 10_000


def test_cleaned_text_is_never_parsed_as_markup() -> None:
    # How the widgets show feed text: a Text of clean()'s output, never markup.
    text = Text(clean("[bold red]BOOM[/]"))
    assert text.plain == "[bold red]BOOM[/]"
    assert not text.spans
