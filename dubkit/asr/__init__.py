"""Speech recognition beyond one decoder call: windows over the speech, a guard against loops
and invented text, recovery of skipped speech, and glossary biasing only where a term was
probably spoken. Pure: the decoder is a port (`recognise.WindowDecoder`)."""
