"""The model store's calls into CTranslate2, SentencePiece and faster-whisper (LoadChecks).

`dubkit.models` checks, before it installs anything, that CTranslate2 loads the model and
SentencePiece the tokenizer, and downloads Whisper through faster-whisper's own function; it
imports none of them (see dubkit.models.checks), its callers pass MODEL_FILES.
"""

from __future__ import annotations

from pathlib import Path

from dubkit.errors import ModelUnavailable


class ModelFiles:
    """The real LoadChecks: each check loads the files once, on the CPU, and drops them."""

    def whisper_loads(self, folder: Path) -> None:
        """ModelUnavailable unless CTranslate2 loads `folder` as a Whisper model."""
        import ctranslate2

        try:
            # one thread: only loading is checked
            ctranslate2.models.Whisper(
                str(folder), device="cpu", compute_type="int8", intra_threads=1
            )
        except (RuntimeError, ValueError) as exc:
            raise ModelUnavailable(
                f"{folder}: CTranslate2 cannot load it as Whisper ({' '.join(str(exc).split())})",
                path=folder,
            ) from exc

    def translator_loads(self, model_dir: Path, origin: Path | str) -> None:
        """ModelUnavailable unless CTranslate2 loads `model_dir` as a translation model."""
        import ctranslate2

        try:
            # one thread: only loading is checked (a thread a core spun 0.35 s of CPU building it)
            ctranslate2.Translator(
                str(model_dir), device="cpu", compute_type="int8", intra_threads=1
            )
        except (
            RuntimeError,
            ValueError,
            OSError,
            IndexError,
            KeyError,
        ) as exc:  # all seen on bad files
            raise ModelUnavailable(
                f"{origin}: CTranslate2 cannot load the package's model "
                f"({' '.join(str(exc).split())}); nothing was installed",
            ) from exc

    def tokenizer_loads(self, path: Path, origin: Path | str) -> None:
        """ModelUnavailable unless SentencePiece loads a `sentencepiece.model`."""
        if path.name != "sentencepiece.model":
            return  # bpe.model is plain text, read when used
        import sentencepiece

        try:
            sentencepiece.SentencePieceProcessor(model_file=str(path))
        except (RuntimeError, OSError) as exc:
            raise ModelUnavailable(
                f"{origin}: its sentencepiece.model cannot be loaded ({exc}); nothing was installed"
            ) from exc

    def download_whisper(self, repo: str, output_dir: Path, revision: str) -> None:
        """faster-whisper's own download of `repo` at `revision` into `output_dir`."""
        from faster_whisper import download_model

        download_model(repo, output_dir=str(output_dir), revision=revision)


MODEL_FILES = ModelFiles()
"""What the commands pass as `checks` to the model store's installs and downloads."""
