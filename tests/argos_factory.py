"""Build valid Argos Translate packages (`.argosmodel`) with random weights, at test time.

A package made here has the layout Argos Translate packages have (what dubkit reads): a zip
whose entries all lie under one top-level folder holding `metadata.json`, `README.md`,
`sentencepiece.model` (one SentencePiece model for both languages, trained on generated
text) and `model/` (an int8 CTranslate2 Transformer whose source and target vocabularies are
exactly the SentencePiece pieces in id order, so every piece the tokenizer emits is known).
There is no `stanza/` sentence splitter in it.

The weights are random, so the packages translate into babble: tests must assert structure
(a package installs, loads, answers every segment, deterministically), never language.
Nothing binary is committed; everything is generated from a seed, and the same arguments
give the same translations.

Random decoders usually never choose `</s>` and run to the 256-step limit, which makes tests
and benchmarks slow. With `max_len_bias` (the default) two residual channels are reserved:
one carries the token position (a ramp in the position encodings), the other receives, via
one cross-attention head with uniform attention, twice the mean source position, i.e.
about the source length. The `</s>` row of the output projection reads their difference,
so `</s>` becomes the most likely token once the output is about as long as the input:
outputs have roughly as many pieces as the input, whatever the model size.

`TINY` builds in well under a second; `OPUS_MT` has the shape of an OPUS-MT /
Argos model (d_model 512, 6+6 layers, 8 heads, FFN 2048; an 8k vocabulary) for benchmarks.
Run this file (`python tests/argos_factory.py`) for a sanity check with timings.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import random
import stat
import tempfile
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Array = npt.NDArray[np.float32]

__all__ = [
    "OPUS_MT",
    "TINY",
    "ModelSize",
    "build_package",
    "build_package_dir",
    "training_lines",
]


@dataclass(frozen=True)
class ModelSize:
    """Transformer shape: `layers` encoder and `layers` decoder layers; `vocab` is the
    SentencePiece size asked for (lowered automatically when the text cannot fill it)."""

    d_model: int = 64
    layers: int = 2
    heads: int = 4
    ffn: int = 128
    vocab: int = 400


TINY = ModelSize()
OPUS_MT = ModelSize(d_model=512, layers=6, heads=8, ffn=2048, vocab=8000)

LANGUAGE_NAMES = {"zh": "Chinese", "en": "English", "ur": "Urdu"}
LATIN_WORDS = ("CPEC", "PTV", "CCTV", "BBC", "AI", "GDP")

# 300 of the most common Simplified Chinese characters (no Traditional forms).
HANZI = "".join(
    list(
        dict.fromkeys(
            "的一是不了人我在有他这中大来上个国到说们为子和你地出道也时年得就那要下以生会自着去之"
            "过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前"
            "所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声"
            "全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使"
            "教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑"
            "性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果"
            "亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让"
            "认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留"
            "红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息"
            "写呢识极令黄德收脸钱党倒未持音"
        )
    )[:300]
)

# Urdu letters, written with the Urdu code points: ی U+06CC, ک U+06A9, ہ U+06C1, ھ U+06BE,
# never the Arabic yeh, kaf and heh (U+064A, U+0643, U+0647).
URDU_CONSONANTS = "بپتٹجچدڈرڑزسشفقکگلمنحخصطعغ"
URDU_VOWELS = ("ا", "و", "ی", "")
URDU_ENDINGS = ("", "", "ہ", "ے", "ں", "ی", "ا", "ھا", "ھی")
URDU_WORDS = (
    "اور کے میں ہے کی سے کو نے یہ وہ پر ہیں تھا تھی گا گی کہ بھی لیے ساتھ بعد پاکستان چین "
    "حکومت منصوبہ ٹیلی ویژن پروگرام دوستی ترقی ملک شہر لوگ کام وقت بات دن سال نیا بہت اچھا "
    "گھر پانی دنیا کہانی خبر آج کل صدر وزیر اعظم عوام تعاون معاہدہ سڑک بجلی"
)

ENGLISH_WORDS = (
    "the of and to in is was for that on with as by at from this it be are have has not "
    "but they his her which an their will one all were new more also been two first after "
    "people year time other would said there about when into over some can than who most "
    "city country government project road power station water news today world friendship "
    "development programme television story family village river market school bridge "
    "train minister president trade agreement between china pakistan corridor economic "
    "years week million children young old good great small large long very every many"
)

_C = "bcdfghjklmnprstvwz"
_V = "aeiou"
LATIN_ONSETS = (*_C, "ch", "sh", "th", "tr", "st", "pl", "br", "gr", "cl")
LATIN_CODAS = ("", "", "n", "r", "s", "t", "l", "m", "ng", "st", "nd")

_LEXICON_SIZE = 6000
_CTRL_RAMP = 0.1  # position ramp per token in the reserved residual channel
_SIGMA = 1.5  # about the standard deviation of the decoder's residual stream
_EOS_SLOPE = 1.5  # growth of the </s> logit per output token past the input length
_MAX_POSITIONS = 2048
_SPARE_PIECES = 64  # multi-character pieces at least, beside the characters


def _seed(*parts: object) -> int:
    """A 64-bit seed from `parts` (hashlib, not hash(): stable across processes)."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")


# --------------------------------------------------------------------------------- text


def _latin_word(rng: random.Random) -> str:
    syllables = rng.choice((1, 2, 2, 2, 3, 3))
    return "".join(
        rng.choice(LATIN_ONSETS) + rng.choice(_V) + rng.choice(LATIN_CODAS)
        for _ in range(syllables)
    )


def _urdu_word(rng: random.Random) -> str:
    syllables = rng.choice((1, 2, 2, 3))
    word = "".join(rng.choice(URDU_CONSONANTS) + rng.choice(URDU_VOWELS) for _ in range(syllables))
    return word + rng.choice(URDU_ENDINGS)


# Common characters first, and more often (a rough Zipf over the list's order).
_HANZI_WEIGHTS = tuple(1.0 / (i + 10) for i in range(len(HANZI)))


def _hanzi_word(rng: random.Random) -> str:
    length = rng.choices((1, 2, 3), weights=(2, 7, 2))[0]
    return "".join(rng.choices(HANZI, weights=_HANZI_WEIGHTS, k=length))


@cache
def _lexicon(code: str) -> tuple[str, ...]:
    """A fixed word list for a language, most frequent first (independent of any seed)."""
    rng = random.Random(_seed("lexicon", code))
    if code == "zh":
        words: list[str] = []
        make = _hanzi_word
    elif code == "ur":
        words, make = URDU_WORDS.split(), _urdu_word
    elif code == "en":
        words, make = ENGLISH_WORDS.split(), _latin_word
    else:
        words, make = [], _latin_word
    seen = set(words)
    while len(words) < _LEXICON_SIZE:
        word = make(rng)
        if word not in seen:
            seen.add(word)
            words.append(word)
    return tuple(words)


@cache
def _cum_weights(size: int) -> tuple[float, ...]:
    total, out = 0.0, []
    for rank in range(size):
        total += 1.0 / (rank + 2.7)  # Zipf-like word frequencies
        out.append(total)
    return tuple(out)


def training_lines(code: str, n: int = 400, seed: int = 0) -> list[str]:
    """`n` generated sentences in language `code`, the same for the same seed.

    'zh': Simplified Chinese characters without spaces, with ，。？; 'ur': Urdu words in
    Urdu letters with ، and ۔; 'en': English-looking words with commas and full stops; any
    other code: Latin-letter babble. Every language mixes in some numbers and Latin
    acronyms (CPEC, PTV, ...), so those pieces exist in every tokenizer.
    """
    rng = random.Random(_seed("lines", code, seed))
    lexicon = _lexicon(code)
    cum = _cum_weights(len(lexicon))
    lines: list[str] = []
    for _ in range(n):
        count = rng.randint(4, 14) if code == "zh" else rng.randint(5, 18)
        words: list[str] = []
        for _ in range(count):
            roll = rng.random()
            if roll < 0.05:
                words.append(str(rng.choice((rng.randint(0, 99), rng.randint(1950, 2030)))))
            elif roll < 0.08:
                words.append(rng.choice(LATIN_WORDS))
            else:
                words.append(rng.choices(lexicon, cum_weights=cum)[0])
        lines.append(_sentence(code, words, rng))
    return lines


def _sentence(code: str, words: list[str], rng: random.Random) -> str:
    if code == "zh":
        text = ""
        for i, word in enumerate(words):
            text += word
            if 0 < i < len(words) - 1 and rng.random() < 0.15:
                text += "，"
        return text + ("？" if rng.random() < 0.15 else "。")
    comma, stop = ("،", "۔") if code == "ur" else (",", ".")
    if code != "ur":
        words = [
            w[:1].upper() + w[1:] if i == 0 or rng.random() < 0.05 else w
            for i, w in enumerate(words)
        ]
    out = []
    for i, word in enumerate(words):
        if 0 < i < len(words) - 1 and rng.random() < 0.1:
            word += comma
        out.append(word)
    return " ".join(out) + stop


# --------------------------------------------------------------------------- tokenizer


def _train_sentencepiece(lines: Sequence[str], vocab_size: int, seed: int) -> bytes:
    """A serialized unigram SentencePiece model trained on `lines` (in memory, quietly).

    `vocab_size` is a target: lowered when the text cannot fill it, raised when the
    characters alone (every one is kept: character_coverage 1.0) need more room.
    """
    import sentencepiece as spm

    chars = {c for line in lines for c in unicodedata.normalize("NFKC", line)}
    vocab_size = max(vocab_size, len(chars) + 3 + _SPARE_PIECES)

    spm.set_random_generator_seed(seed % (2**31))
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        vocab_size=vocab_size,
        hard_vocab_limit=False,  # lower the size when the text cannot fill it
        model_type="unigram",
        character_coverage=1.0,
        input_sentence_size=0,
        shuffle_input_sentence=False,
        num_threads=1,  # deterministic, and fast enough for a few thousand lines
        minloglevel=2,
    )
    return model.getvalue()


def _write_bpe(path: Path, lines: Sequence[str], code: str, symbols: int) -> list[str]:
    """subword-nmt BPE codes over Moses-tokenised `lines` (as Argos's older packages ship
    them in bpe.model); returns the vocabulary: specials, then every segment seen."""
    from sacremoses import MosesTokenizer
    from subword_nmt.apply_bpe import BPE
    from subword_nmt.learn_bpe import learn_bpe

    moses = MosesTokenizer(code)
    tokenised = [" ".join(moses.tokenize(line)) for line in lines]
    codes = io.StringIO()
    with contextlib.redirect_stderr(io.StringIO()):  # its tqdm bar
        learn_bpe(iter(tokenised), codes, symbols, min_frequency=2)
    path.write_text(codes.getvalue(), encoding="utf-8")
    codes.seek(0)
    bpe = BPE(codes)
    seen = {piece for line in tokenised for piece in bpe.segment_tokens(line.split(" "))}
    letters = {c for line in tokenised for c in line if not c.isspace()}
    seen |= letters | {f"{c}@@" for c in letters}  # every single letter, inside or final
    return ["<unk>", "<s>", "</s>", *sorted(seen)]


# ---------------------------------------------------------------------------- weights


def _sinusoids(positions: int, dim: int) -> Array:
    """OpenNMT/tensor2tensor position encodings: sines in the first half, cosines after."""
    import numpy as np

    half = dim // 2
    inv = np.exp(-math.log(10000.0) * np.arange(half) / max(half - 1, 1))
    angles = np.arange(positions)[:, None] * inv[None, :]
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1).astype(np.float32)


class _Weights:
    """Seeded random tensors, and the wiring of the two reserved residual channels."""

    def __init__(self, size: ModelSize, vocab: int, seed: int, control: bool) -> None:
        import numpy as np

        self.rng = np.random.default_rng(seed)
        self.d = size.d_model
        self.vocab = vocab
        self.control = control
        # Reserved residual channels: `pos` holds the position ramp, `src` the source length.
        self.pos, self.src = self.d - 2, self.d - 1
        self.free = self.d - 2 if control else self.d

    def normal(self, shape: tuple[int, ...], std: float) -> Array:
        import numpy as np

        out: Array = self.rng.standard_normal(shape, dtype=np.float32)
        out *= np.float32(std)
        return out

    def zeros(self, n: int) -> Array:
        import numpy as np

        return np.zeros(n, dtype=np.float32)

    def ones(self, n: int) -> Array:
        import numpy as np

        return np.ones(n, dtype=np.float32)

    def linear(
        self, out: int, fan_in: int, *, reads: bool = False, writes: bool = False, gain: float = 1.0
    ) -> Array:
        """(out, fan_in) weights with std gain/sqrt(fan_in). Ordinary layers neither read
        (`reads`: the input is the residual stream) nor write (`writes`: the output is
        added to it) the reserved channels, so those carry only what the wiring puts there."""
        w = self.normal((out, fan_in), gain / math.sqrt(fan_in))
        if self.control:
            if reads:
                w[:, [self.pos, self.src]] = 0.0
            if writes:
                w[[self.pos, self.src], :] = 0.0
        return w

    def embeddings(self) -> Array:
        # Scaled by sqrt(d_model) in the model: unit variance, like the position encodings.
        w = self.normal((self.vocab, self.d), 1.0 / math.sqrt(self.d))
        if self.control:
            w[:, [self.pos, self.src]] = 0.0
        return w

    def position_encodings(self) -> Array:
        import numpy as np

        table: Array = np.zeros((_MAX_POSITIONS, self.d), dtype=np.float32)
        table[:, : self.free] = _sinusoids(_MAX_POSITIONS, self.free)
        if self.control:
            table[:, self.pos] = _CTRL_RAMP * np.arange(_MAX_POSITIONS, dtype=np.float32)
        return table


def _fill_layer_norm(spec: Any, w: _Weights) -> None:
    spec.gamma = w.ones(w.d)
    spec.beta = w.zeros(w.d)


def _fill_linear(spec: Any, weight: Array, w: _Weights) -> None:
    spec.weight = weight
    spec.bias = w.zeros(weight.shape[0])


def _fill_ffn(spec: Any, w: _Weights, ffn: int, gain: float) -> None:
    _fill_layer_norm(spec.layer_norm, w)
    _fill_linear(spec.linear_0, w.linear(ffn, w.d, reads=True), w)
    _fill_linear(spec.linear_1, w.linear(w.d, ffn, writes=True, gain=gain), w)


def _fill_self_attention(spec: Any, w: _Weights, gain: float) -> None:
    _fill_layer_norm(spec.layer_norm, w)
    _fill_linear(spec.linear[0], w.linear(3 * w.d, w.d, reads=True), w)
    _fill_linear(spec.linear[1], w.linear(w.d, w.d, writes=True, gain=gain), w)


def _fill_cross_attention(spec: Any, w: _Weights, gain: float, heads: int, length: bool) -> None:
    """Encoder-decoder attention. With `length`, head 0 attends uniformly (zero queries)
    and carries twice the mean source position, i.e. the ramp times the source length
    minus one, into the SRC channel."""
    _fill_layer_norm(spec.layer_norm, w)
    query = w.linear(w.d, w.d, reads=True)
    keys_values = w.linear(2 * w.d, w.d, reads=True)  # keys, then values
    out = w.linear(w.d, w.d, writes=True, gain=gain)
    if length:
        query[: w.d // heads, :] = 0.0  # head 0: equal scores, so a plain mean
        keys_values[w.d, :] = 0.0
        keys_values[w.d, w.pos] = 1.0  # head 0, value 0: the source position ramp
        out[:, 0] = 0.0
        out[w.src, 0] = 2.0
    _fill_linear(spec.linear[0], query, w)
    _fill_linear(spec.linear[1], keys_values, w)
    _fill_linear(spec.linear[2], out, w)


def _build_spec(size: ModelSize, pieces: list[str], seed: int, control: bool) -> Any:
    import ctranslate2.specs as cs

    if size.d_model % size.heads or size.d_model < 8:
        raise ValueError(f"d_model {size.d_model} must be a multiple of heads {size.heads}")
    # No final layer norm in the encoder: the memory keeps the exact position ramp.
    encoder = cs.TransformerEncoderSpec(size.layers, size.heads, no_final_norm=True)
    decoder = cs.TransformerDecoderSpec(size.layers, size.heads)
    spec = cs.TransformerSpec(encoder, decoder)
    spec.register_source_vocabulary(pieces)
    spec.register_target_vocabulary(pieces)

    w = _Weights(size, len(pieces), seed, control)
    encodings = w.position_encodings()
    encoder.embeddings[0].weight = w.embeddings()
    encoder.position_encodings.encodings = encodings
    # Residual branches scaled down so the stream's variance stays near 2.5 at any depth.
    gain = 1.0 / math.sqrt(2 * size.layers)
    for layer in encoder.layer:
        _fill_self_attention(layer.self_attention, w, gain)
        _fill_ffn(layer.ffn, w, size.ffn, gain)

    decoder.embeddings.weight = w.embeddings()
    decoder.position_encodings.encodings = encodings
    gain = 1.0 / math.sqrt(3 * size.layers)
    for i, layer in enumerate(decoder.layer):
        _fill_self_attention(layer.self_attention, w, gain)
        _fill_cross_attention(layer.attention, w, gain, size.heads, length=control and i == 0)
        _fill_ffn(layer.ffn, w, size.ffn, gain)
    _fill_layer_norm(decoder.layer_norm, w)

    # Output projection: small random logits (babble), <unk> and <s> never chosen, and
    # with `control` a </s> logit that grows with (output position - source length).
    projection = w.normal((w.vocab, w.d), 1.0 / math.sqrt(w.free))
    bias = w.zeros(w.vocab)
    bias[0] = bias[1] = -100.0  # <unk>, <s>
    if control:
        projection[:, [w.pos, w.src]] = 0.0
        projection[2, :] = 0.0
        projection[2, w.pos] = _EOS_SLOPE * _SIGMA / _CTRL_RAMP
        projection[2, w.src] = -_EOS_SLOPE * _SIGMA / _CTRL_RAMP
        # About the largest other logit, less one step: </s> wins once len(output) = len(input).
        bias[2] = math.sqrt(2 * math.log(w.vocab)) - _EOS_SLOPE
    decoder.projection.weight = projection
    decoder.projection.bias = bias
    return spec


# ---------------------------------------------------------------------------- packages


def _default_folder(from_code: str, to_code: str, package_version: str) -> str:
    return f"translate-{from_code}_{to_code}-{package_version.replace('.', '_')}"


def _write_tree(
    root: Path,
    from_code: str,
    to_code: str,
    *,
    size: ModelSize,
    seed: int,
    package_version: str,
    sp_lines: list[str] | None,
    max_len_bias: bool,
    tokenizer: str = "sentencepiece",
) -> None:
    import sentencepiece as spm

    root.mkdir(parents=True, exist_ok=False)
    if sp_lines is None:
        n = max(400, size.vocab)
        sp_lines = training_lines(from_code, n, seed) + training_lines(to_code, n, seed)
    if tokenizer == "bpe":
        pieces = _write_bpe(root / "bpe.model", sp_lines, from_code, size.vocab)
    else:
        sp_model = _train_sentencepiece(sp_lines, size.vocab, _seed("sp", from_code, to_code, seed))
        (root / "sentencepiece.model").write_bytes(sp_model)
        sp = spm.SentencePieceProcessor(model_proto=sp_model)
        pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    if pieces[:3] != ["<unk>", "<s>", "</s>"]:
        raise RuntimeError(f"unexpected specials {pieces[:3]}")

    spec = _build_spec(size, pieces, _seed("weights", from_code, to_code, seed, size), max_len_bias)
    spec.validate()
    spec.optimize(quantization="int8")  # as Argos ships its models
    (root / "model").mkdir()
    spec.save(str(root / "model"))

    meta = {
        "package_version": package_version,
        "argos_version": "1.9.0",
        "from_code": from_code,
        "from_name": LANGUAGE_NAMES.get(from_code, from_code),
        "to_code": to_code,
        "to_name": LANGUAGE_NAMES.get(to_code, to_code),
        "type": "translate",
        "code": f"translate-{from_code}_{to_code}",
        "links": [],
    }
    (root / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    (root / "README.md").write_text(
        f"# Random-weight test package {from_code} → {to_code}\n\n"
        "Generated by dubkit's tests/argos_factory.py (seed "
        f"{seed}, d_model {size.d_model}, {size.layers}+{size.layers} layers, "
        f"{len(pieces)} pieces). The weights are random: it translates into babble and is "
        "only good for testing and benchmarking.\n",
        encoding="utf-8",
    )


def build_package_dir(
    dest_dir: Path,
    from_code: str,
    to_code: str,
    *,
    size: ModelSize = TINY,
    seed: int = 0,
    package_version: str = "1.9",
    folder_name: str | None = None,
    sp_lines: list[str] | None = None,
    max_len_bias: bool = True,
    tokenizer: str = "sentencepiece",
) -> Path:
    """Like `build_package`, but write the unzipped package folder (as argospm installs it)
    into `dest_dir` and return that folder. The folder must not exist yet."""
    root = Path(dest_dir) / (folder_name or _default_folder(from_code, to_code, package_version))
    _write_tree(
        root,
        from_code,
        to_code,
        size=size,
        seed=seed,
        package_version=package_version,
        sp_lines=sp_lines,
        max_len_bias=max_len_bias,
        tokenizer=tokenizer,
    )
    return root


def build_package(
    dest_dir: Path,
    from_code: str,
    to_code: str,
    *,
    size: ModelSize = TINY,
    seed: int = 0,
    package_version: str = "1.9",
    folder_name: str | None = None,
    sp_lines: list[str] | None = None,
    max_len_bias: bool = True,
    tokenizer: str = "sentencepiece",
) -> Path:
    """Write `dest_dir/translate-{from}_{to}-{version, . → _}.argosmodel`; return its path.

    The zip holds only regular files, deflated, all under one folder (`folder_name`, by
    default the archive's stem), with fixed timestamps: the same arguments give the same
    bytes. A different seed or language pair gives different weights. `sp_lines` replaces
    the generated text the SentencePiece model is trained on; `max_len_bias=False` leaves
    `</s>` random (outputs then often run to the decoding limit). `tokenizer="bpe"` writes
    a Moses + subword-nmt `bpe.model` instead of `sentencepiece.model` (needs sacremoses and
    subword-nmt, dubkit's `bpe` extra).
    """
    dest_dir = Path(dest_dir)
    stem = _default_folder(from_code, to_code, package_version)
    folder = folder_name or stem
    archive = dest_dir / f"{stem}.argosmodel"
    with tempfile.TemporaryDirectory(prefix="argos-factory-") as tmp:
        root = build_package_dir(
            Path(tmp),
            from_code,
            to_code,
            size=size,
            seed=seed,
            package_version=package_version,
            folder_name=folder,
            sp_lines=sp_lines,
            max_len_bias=max_len_bias,
            tokenizer=tokenizer,
        )
        dest_dir.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(archive, "w") as zf:
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                info = zipfile.ZipInfo(f"{folder}/{path.relative_to(root).as_posix()}")
                info.date_time = (1980, 1, 1, 0, 0, 0)
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                data = path.read_bytes()
                # model.bin is mostly int8 noise: fast deflate, it barely compresses anyway.
                zf.writestr(info, data, compresslevel=1 if len(data) > 1 << 20 else 6)
    return archive


# ------------------------------------------------------------------------ sanity check


def _translate_like_argos(
    folder: Path, lines: list[str], threads: int
) -> tuple[list[list[str]], list[str]]:
    """Translate as argostranslate does; return the output pieces and texts of each line."""
    import ctranslate2
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(folder / "sentencepiece.model"))
    translator = ctranslate2.Translator(
        str(folder / "model"), device="cpu", compute_type="int8", intra_threads=threads
    )
    tokens = [sp.encode(line, out_type=str) for line in lines]
    results = translator.translate_batch(
        tokens,
        beam_size=4,
        num_hypotheses=1,
        length_penalty=0.2,
        replace_unknowns=True,
        max_batch_size=32,
        batch_type="tokens",
    )
    pieces = [r.hypotheses[0] for r in results]
    return pieces, [sp.decode_pieces(p) for p in pieces]


def _lengths(label: str, inputs: list[int], outputs: list[list[str]]) -> None:
    import numpy as np

    out = np.array([len(o) for o in outputs])
    diff = out - np.array(inputs)
    q = np.percentile(out, [0, 10, 50, 90, 100]).astype(int).tolist()
    print(
        f"  {label}: output pieces min/p10/median/p90/max {q}; outside 5-60: "
        f"{int(((out < 5) | (out > 60)).sum())}/{len(out)}; at 256: {int((out >= 256).sum())}; "
        f"output - input pieces: median {int(np.median(diff))}, range {diff.min()}..{diff.max()}"
    )


def _main() -> None:
    import argparse
    import time

    import sentencepiece as spm

    parser = argparse.ArgumentParser(description="Build random Argos packages and use them.")
    parser.add_argument("--threads", type=int, default=1, help="CTranslate2 intra_threads")
    parser.add_argument("--skip-opus", action="store_true", help="skip the OPUS-MT-sized build")
    parser.add_argument(
        "--build",
        type=Path,
        metavar="DIR",
        help="only write TINY zh→en and en→ur .argosmodel files into DIR (demo, manual tests)",
    )
    args = parser.parse_args()
    if args.build is not None:
        args.build.mkdir(parents=True, exist_ok=True)
        for src, tgt, seed in (("zh", "en", 1), ("en", "ur", 2)):
            print(build_package(args.build, src, tgt, seed=seed))
        return

    def pieces_of(folder: Path, lines: list[str]) -> list[int]:
        sp = spm.SentencePieceProcessor(model_file=str(folder / "sentencepiece.model"))
        return [len(sp.encode(line, out_type=str)) for line in lines]

    with tempfile.TemporaryDirectory(prefix="argos-factory-check-") as tmp_name:
        tmp = Path(tmp_name)
        folders: dict[str, Path] = {}
        for src, tgt in (("zh", "en"), ("en", "ur")):
            start = time.perf_counter()
            archive = build_package(tmp, src, tgt)
            took = time.perf_counter() - start
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(tmp / "unzipped")
                (top,) = {name.split("/")[0] for name in zf.namelist()}
            folders[src] = tmp / "unzipped" / top
            print(f"TINY {src}→{tgt}: built in {took:.2f} s, {archive.stat().st_size:,} bytes")

        source = training_lines("zh", 200, seed=1)
        start = time.perf_counter()
        english_pieces, english = _translate_like_argos(folders["zh"], source, args.threads)
        urdu_pieces, urdu = _translate_like_argos(folders["en"], english, args.threads)
        took = time.perf_counter() - start
        print(f"TINY zh→en→ur, 200 lines: {took:.2f} s")
        _lengths("zh→en", pieces_of(folders["zh"], source), english_pieces)
        _lengths("en→ur", pieces_of(folders["en"], english), urdu_pieces)
        for zh, en, ur in list(zip(source, english, urdu, strict=True))[:3]:
            print(f"  {zh}\n   → {en}\n   → {ur}")

        if args.skip_opus:
            return
        start = time.perf_counter()
        archive = build_package(tmp / "opus", "zh", "en", size=OPUS_MT)
        took = time.perf_counter() - start
        folder = build_package_dir(tmp / "opus-dir", "zh", "en", size=OPUS_MT)
        print(f"OPUS_MT zh→en: built in {took:.1f} s, {archive.stat().st_size:,} bytes")
        source = training_lines("zh", 50, seed=2)
        start = time.perf_counter()
        pieces, _ = _translate_like_argos(folder, source, args.threads)
        took = time.perf_counter() - start
        print(f"OPUS_MT zh→en, 50 lines, beam 4, int8, {args.threads} thread(s): {took:.2f} s")
        _lengths("zh→en", pieces_of(folder, source), pieces)


if __name__ == "__main__":
    _main()
