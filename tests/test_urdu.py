"""Urdu normalisation: code points, punctuation, digits, bidi marks."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from dubkit.text.urdu import (
    LOOKALIKES,
    LRM,
    RLM,
    UrduStyle,
    lookalikes_in,
    mark_bidi,
    normalise,
    set_digits,
    strip_bidi,
)

URDU_LETTERS = "ابپتٹثجچحخدڈذرڑزژسشصضطظعغفقکگلمنںوہھءیےۃ"
urdu_text = st.text(
    alphabet=st.sampled_from(URDU_LETTERS + "يكهى" + " ،۔؟.,?" + "0123456789٠١٢" + "CPEC"),
    max_size=60,
)


def test_lookalikes_become_urdu_letters() -> None:
    text = normalise("پاكستان اور چين كے درميان دوستي ه")
    assert lookalikes_in(text) == []
    assert strip_bidi(text) == "پاکستان اور چین کے درمیان دوستی ہ"


def test_urdu_punctuation() -> None:
    assert strip_bidi(normalise("کیا یہ سچ ہے?")) == "کیا یہ سچ ہے؟"
    assert strip_bidi(normalise("پاکستان, چین اور ترکی.")) == "پاکستان، چین اور ترکی۔"
    # numbers keep their separators
    assert strip_bidi(normalise("قیمت 3.5 روپے اور 1,000 لوگ")) == "قیمت 3.5 روپے اور 1,000 لوگ"
    assert normalise("Hello, world.") == "Hello, world."  # no Urdu: untouched


def test_bidi_marks_around_latin_and_digits() -> None:
    text = normalise("سی پیک CPEC کا آغاز 2015 میں ہوا")
    assert f"{LRM}CPEC{LRM}" in text and f"{LRM}2015{LRM}" in text
    assert not text.startswith(RLM)
    # a line that starts with Latin gets RLM so players lay it out right to left
    assert normalise("CPEC ایک منصوبہ ہے").startswith(RLM + LRM + "CPEC")
    assert normalise("ریڈیو پاکستان", UrduStyle(bidi_marks=False)) == "ریڈیو پاکستان"
    assert f"{LRM}Radio Pakistan{LRM}" in mark_bidi("نشریات Radio Pakistan سے")


def test_one_digit_system() -> None:
    assert set_digits("٢٠٢٥ اور 2025 اور ۲۰۲۵", "latin") == "2025 اور 2025 اور 2025"
    assert set_digits("٢٠٢٥ اور 2025", "urdu") == "۲۰۲۵ اور ۲۰۲۵"


@given(urdu_text)
def test_normalise_is_idempotent_and_clean(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert lookalikes_in(once) == []
    assert not any(c in once for c in "٠١٢٣٤٥٦٧٨٩")
    plain = strip_bidi(once)
    assert not re.search(f"[{URDU_LETTERS}][?,;]", plain)  # after an Urdu word: Urdu marks


@given(urdu_text)
def test_marks_only_add_invisible_characters(text: str) -> None:
    plain = normalise(text, UrduStyle(bidi_marks=False))
    assert strip_bidi(normalise(text)) == plain
    assert all(c not in LOOKALIKES for c in plain)


def test_what_is_not_urdu_keeps_its_punctuation() -> None:
    def plain(text: str, digits: str = "latin") -> str:
        return strip_bidi(normalise(text, UrduStyle(digits=digits)))

    url = "https://example.com/page?id=5&x=1"
    assert plain(f"تفصیل کے لیے {url} دیکھیں") == f"تفصیل کے لیے {url} دیکھیں"
    assert url in normalise(f"لیے {url} دیکھیں")  # no marks inside the address
    assert plain("انہوں نے کہا: Hello, how are you? I am fine.") == (
        "انہوں نے کہا: Hello, how are you? I am fine."
    )
    assert plain("منصوبے کا نام CPEC.") == "منصوبے کا نام CPEC۔"
    assert plain("انتظار...") == "انتظار..."
    assert plain("کووڈ COVID-19 اور MP3 میں 12 لوگ", "urdu") == "کووڈ COVID-19 اور MP3 میں ۱۲ لوگ"
    assert plain("قیمت 3.5 روپے", "urdu") == "قیمت ۳.۵ روپے"


def test_fullwidth_forms_copied_from_chinese_are_folded() -> None:
    assert strip_bidi(normalise("ہیں？ ہوں。 پاکستان，چین ３")) == "ہیں؟ ہوں۔ پاکستان، چین 3"


def test_a_line_starting_with_a_number_stays_right_to_left() -> None:
    assert normalise("2025 میں انتخابات ہوں گے.").startswith(RLM)
    assert normalise("10:30 بجے").startswith(RLM)
    assert not normalise("انتخابات 2025 میں").startswith(RLM)
