"""Subtitles burned into the picture: find the band they sit in, read them, vote across the
frames of each subtitle, time each cue to the frame where the band changed. Pure: plain data
in (boxes, texts, scores, distances between band images), records out; the OCR engine and the
frame decoding live in `dubkit.adapters.ocr`."""
