"""Argos Translate packages run directly on CTranslate2 and SentencePiece.

One `PackageTranslator` per package; a programme's lines go through it in one
`translate_batch` call, batched by tokens, where argostranslate translates sentence by sentence.
The decoding settings match argostranslate's (beam 4, length penalty 0.2, unknown tokens
replaced from the source), so a package translates the same way in both.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from dubkit import constants as C
from dubkit.adapters.ct2 import DeviceChoice, load_on_device
from dubkit.errors import ModelUnavailable
from dubkit.models.packages import ArgosPackage
from dubkit.ports import MTOptions


class _SentencePiece:
    def __init__(self, path: str) -> None:
        import sentencepiece

        self.sp = sentencepiece.SentencePieceProcessor(model_file=path)

    def encode(self, text: str) -> list[str]:
        return list(self.sp.encode(text, out_type=str))

    def decode(self, tokens: Sequence[str]) -> str:
        return str(self.sp.decode_pieces(list(tokens))).replace("▁", " ")


class _Bpe:
    """Moses tokenisation plus subword-nmt BPE, as in argostranslate's BPE packages."""

    def __init__(self, path: str, source: str, target: str) -> None:
        try:
            from sacremoses import MosesDetokenizer, MosesPunctNormalizer, MosesTokenizer
            from subword_nmt.apply_bpe import BPE
        except ImportError as exc:
            raise ModelUnavailable(
                f"{path}: this package uses BPE tokenisation, which needs sacremoses and "
                f"subword-nmt; `pip install 'dubkit[bpe]'`"
            ) from exc
        self.normalizer = MosesPunctNormalizer(source)
        self.tokenizer = MosesTokenizer(source)
        self.detokenizer = MosesDetokenizer(target)
        with open(path, encoding="utf-8") as codes:
            self.bpe = BPE(codes)

    def encode(self, text: str) -> list[str]:
        words = " ".join(self.tokenizer.tokenize(self.normalizer.normalize(text)))
        return list(self.bpe.segment_tokens(words.strip("\r\n ").split(" ")))

    def decode(self, tokens: Sequence[str]) -> str:
        return str(self.detokenizer.detokenize(" ".join(tokens).replace("@@ ", "").split(" ")))


class PackageTranslator:
    """One loaded package: many lines in, many lines out, one batched call."""

    def __init__(
        self,
        package: ArgosPackage,
        translator: Any,
        tokenizer: Any,
        choice: DeviceChoice,
        options: MTOptions,
    ) -> None:
        self.package = package
        self.translator = translator
        self.tokenizer = tokenizer
        self.device = choice
        self.options = options
        self.source, self.target = package.from_code, package.to_code
        self._key: str | None = None

    @classmethod
    def load(cls, package: ArgosPackage, options: MTOptions) -> PackageTranslator:
        path = package.path
        if package.tokenizer == "sentencepiece.model":
            tokenizer: Any = _SentencePiece(str(path / package.tokenizer))
        else:
            tokenizer = _Bpe(str(path / package.tokenizer), package.from_code, package.to_code)
        translator, choice = load_on_device(
            options.device,
            options.compute_type,
            lambda dev, ctype: _load(package, dev, ctype, options.threads),
            lambda t: _probe(t, tokenizer),
        )
        return cls(package, translator, tokenizer, choice, options)

    @property
    def key(self) -> str:
        """Everything that decides the output: engine, package content, decoding options.

        The translation memory serves a line only under the same key.
        """
        if self._key is None:
            import ctranslate2

            self._key = json.dumps(
                {
                    "engine": f"ctranslate2-{ctranslate2.__version__}",
                    "package": f"{self.package.code or self.package.pair} {self.package.version}",
                    "fingerprint": self.package.fingerprint(),
                    "device": self.device.device,
                    "compute_type": self.device.compute_type,
                    "beam_size": self.options.beam_size,
                    "length_penalty": self.options.length_penalty,
                    "max_decoding_length": self.options.max_decoding_length,
                },
                sort_keys=True,
            )
        return self._key

    @property
    def description(self) -> dict[str, Any]:
        return {
            "package": self.package.code or self.package.pair,
            "version": self.package.version,
            "path": str(self.package.path),
            "origin": self.package.origin,
            **asdict(self.options),
            "device": self.device.device,  # what ran, not what was asked for
            "compute_type": self.device.compute_type,
        }

    def batch_tokens(self, total: int) -> int:
        """Tokens per batch: the configured size, but small enough that every CPU worker gets
        two batches or more (a programme of 200 lines is only about 2,500 tokens)."""
        workers = _workers(self.device.device, self.options.threads)[0]
        share = math.ceil(total / (2 * workers)) if workers > 1 else total
        return max(C.MT_MIN_BATCH_TOKENS, min(self.options.max_batch_tokens, share))

    def translate(self, texts: Sequence[str]) -> list[str]:
        """Translate every text in one batched CTranslate2 call (empty texts stay empty)."""
        todo = [i for i, t in enumerate(texts) if t.strip()]
        out = [""] * len(texts)
        if not todo:
            return out
        tokens = [self.tokenizer.encode(texts[i]) for i in todo]
        prefix = self.package.target_prefix
        try:
            results = self.translator.translate_batch(
                tokens,
                target_prefix=[[prefix]] * len(tokens) if prefix else None,
                max_batch_size=self.batch_tokens(sum(len(t) for t in tokens)),
                batch_type="tokens",
                beam_size=self.options.beam_size,
                num_hypotheses=1,
                length_penalty=self.options.length_penalty,
                replace_unknowns=True,
                max_decoding_length=self.options.max_decoding_length,
            )
        except (RuntimeError, ValueError) as exc:
            raise ModelUnavailable(
                f"{self.package.path}: translation failed ({' '.join(str(exc).split())}); "
                f"retry with --device cpu, or reinstall the package"
            ) from exc
        for i, result in zip(todo, results, strict=True):
            text = self.tokenizer.decode(result.hypotheses[0])
            if prefix and text.startswith(prefix):
                text = text[len(prefix) :]
            out[i] = " ".join(text.split())
        return out


def cpu_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _workers(device: str, threads: int) -> tuple[int, int]:
    """(inter_threads, intra_threads). On the CPU, one single-threaded worker per core, each
    decoding its own batch: measured 1.8x faster than one worker with two threads on 2 cores
    (OPUS-MT-sized model), since a decoding step is too small to split across cores. The
    weights are shared between workers. On a GPU, one worker."""
    if device == "cpu":
        return max(1, threads or cpu_cores()), 1
    return 1, threads


def _load(package: ArgosPackage, device: str, compute_type: str, threads: int) -> Any:
    import ctranslate2

    inter, intra = _workers(device, threads)
    try:
        return ctranslate2.Translator(
            str(package.path / "model"),
            device=device,
            compute_type=compute_type,
            inter_threads=inter,
            intra_threads=intra,
        )
    except (RuntimeError, OSError, IndexError, KeyError) as exc:  # all seen on damaged models
        if device == "cuda" and isinstance(exc, RuntimeError):
            raise
        raise ModelUnavailable(
            f"{package.path}: CTranslate2 cannot load the package's model "
            f"({' '.join(str(exc).split())}); reinstall it with `dubkit models install`",
            path=package.path,
        ) from exc


def _probe(translator: Any, tokenizer: Any) -> None:
    """One short translation: the first encode is where missing CUDA libraries show."""
    translator.translate_batch([tokenizer.encode("a")], beam_size=1, max_decoding_length=2)


def load_route(stages: Sequence[ArgosPackage], options: MTOptions) -> list[PackageTranslator]:
    return [PackageTranslator.load(package, options) for package in stages]
