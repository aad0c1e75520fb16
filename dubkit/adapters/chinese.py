"""Chinese text tools: Traditional to Simplified (OpenCC's t2s tables), words (jieba), readings
(pypinyin)."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import Any

from dubkit.records import Transcript


@cache
def _converter() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Simplified characters for `text`; anything already Simplified is left as it is."""
    return str(_converter().convert(text)) if text else text


def simplify_transcript(transcript: Transcript) -> Transcript:
    """Every segment and word in Simplified characters (t2s keeps lengths, so timing holds)."""
    return replace(
        transcript,
        segments=tuple(
            replace(
                seg,
                text=to_simplified(seg.text),
                words=tuple(replace(w, text=to_simplified(w.text)) for w in seg.words),
            )
            for seg in transcript.segments
        ),
    )


@cache
def _segmenter() -> Any:
    """jieba's segmenter (rjieba: jieba-rs, the Rust port with jieba's own dictionary), loaded
    on first use: about 0.15 s and 35 MB, writing nothing to disk."""
    import rjieba

    return rjieba.Jieba()


def split_words(text: str) -> list[str]:
    """Chinese text cut into words (jieba's dictionary, its HMM for words the dictionary
    lacks); the pieces join back into `text` exactly."""
    return list(_segmenter().cut(text, hmm=True))


def split_dictionary_words(text: str) -> list[str]:
    """Chinese text cut into the words jieba's dictionary knows, every other character on
    its own (no HMM guesses): what a mishearing like 三零酸现干 is made of shows as single
    characters, real words (社交, 媒体) as words."""
    return list(_segmenter().cut(text, hmm=False))


def pinyin_readings(han: str) -> list[str]:
    """One reading per Han character of `han`, in context ('zhong1', neutral tone 5; '?' for
    a character pypinyin cannot read): the `Reader` of dubkit.asr.pinyin. pypinyin's phrase
    dictionary picks the reading of characters that have several (重庆 chong2, 重要 zhong4)."""
    from pypinyin import Style, lazy_pinyin

    def unknown(chars: str) -> Any:  # pypinyin accepts a list: one item per character
        return ["?"] * len(chars)

    found = lazy_pinyin(han, style=Style.TONE3, neutral_tone_with_five=True, errors=unknown)
    if len(found) != len(han):  # a run pypinyin grouped: one reading per character regardless
        found = [lazy_pinyin(ch, style=Style.TONE3, errors=unknown)[0] for ch in han]
    return [str(r) for r in found]


def pinyin_alternatives(char: str) -> list[str]:
    """Every reading of one Han character (藏: cang2 and zang4), for judging whether a
    recogniser's character could stand for a sound: context picks one, a mishearing has
    none."""
    from pypinyin import Style, pinyin

    found = pinyin(char, style=Style.TONE3, heteronym=True, neutral_tone_with_five=True)
    return [str(r) for r in found[0]] if found and found[0] else []
