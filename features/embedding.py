"""A static sentence embedding distilled from all-MiniLM-L6-v2: one 384-d vector per WordPiece token, an article =
the weighted mean of its tokens' vectors, l2-normalised. Pure NumPy (+ SciPy's sparse product) at run time.

The table, its vocabulary and per-token weights are package data (`features/data/embedding/`, read once per process
through importlib.resources); `evaluation/distill_embedding.py` built them, and `PROVENANCE.md` beside them says
from what, how, and what the quantisation costs. `WordPieceTokenizer` is the model's own tokenizer (BERT uncased:
`tokenizer.json` of the model) re-implemented without the `tokenizers` package: tests compare its ids with the
real tokenizer's on varied strings.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import scipy.sparse as sp

DIM = 384
TABLE_FILE = "table.npz"
VOCAB_FILE = "vocab.txt"
TABLE_SHA256 = "a7c7845902e4ce0af4ff3bf15342b1fdcce0ea6ede83bcaf0f05d02b8aa933c2"
"""sha256 of the shipped `table.npz` (PROVENANCE.md says the same); `StaticEmbedding.version` is its first 12 digits."""

UNK = "[UNK]"
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
MAX_WORD_CHARS = 100  # tokenizer.json: max_input_chars_per_word; longer words are one [UNK]
PREFIX = "##"  # continuing_subword_prefix

# the special tokens are matched on the raw text before normalisation (tokenizer.json: added_tokens, normalized false)
_SPECIAL = re.compile("|".join(re.escape(t) for t in SPECIAL_TOKENS))
# BERT's punctuation is ASCII punctuation (Rust's is_ascii_punctuation) + Unicode P*: non-ASCII P* is spaced apart
# by _non_ascii; here the ASCII marks, each its own word, and runs of anything else but spaces
_WORDS = re.compile(r"[^ !-/:-@\[-`{-~]+|[!-/:-@\[-`{-~]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# clean_text on ASCII: \t \n \r become spaces; the other control characters (Cc) are dropped
_ASCII_CLEAN = {c: None for c in [*range(0x00, 0x20), 0x7F]} | {ord("\t"): " ", ord("\n"): " ", ord("\r"): " "}
_CJK = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B920, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)
_WHITESPACE = frozenset("\u0020\u00a0\u1680\u2028\u2029\u202f\u205f\u3000") | {chr(c) for c in range(0x2000, 0x200B)}


@functools.cache
def _non_ascii_char(c: str) -> str:
    """What BertNormalizer + BertPreTokenizer make of one non-ASCII character after NFD: '' (control, format,
    unassigned, private use, U+FFFD, non-spacing mark: dropped), ' ' (whitespace), ' c ' (CJK ideograph or
    punctuation: a word of its own), else itself; a capital sigma becomes a small one here (the tokenizer lower-cases
    character by character, with no final form)."""
    category = unicodedata.category(c)
    if category[0] == "C" or category == "Mn" or c == "\ufffd":
        return ""
    if c in _WHITESPACE:
        return " "
    code = ord(c)
    if category[0] == "P" or any(lo <= code <= hi for lo, hi in _CJK):
        return f" {c} "
    return "\u03c3" if c == "\u03a3" else c


def _replace_non_ascii(match: re.Match[str]) -> str:
    return _non_ascii_char(match.group())


def normalized_words(text: str) -> list[str]:
    """The words BERT's uncased WordPiece sees: clean (controls dropped, whitespace a space), CJK ideographs and
    punctuation apart, NFD with non-spacing marks dropped (accents), lower-cased, split on spaces and punctuation."""
    if text.isascii():
        text = text.translate(_ASCII_CLEAN)
    else:
        text = _NON_ASCII.sub(_replace_non_ascii, unicodedata.normalize("NFD", text).translate(_ASCII_CLEAN))
    return _WORDS.findall(text.lower())


@dataclass
class WordPieceTokenizer:
    """BERT uncased WordPiece as all-MiniLM-L6-v2's tokenizer.json does it, with no special tokens added around the
    text and no truncation. Words are cached (one greedy longest-match per distinct word per process)."""

    vocab: Sequence[str]
    _ids: dict[str, int] = field(init=False, repr=False)
    _cache: dict[str, tuple[int, ...]] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._ids = {token: i for i, token in enumerate(self.vocab)}
        self._unk = self._ids[UNK]

    def word_ids(self, word: str) -> tuple[int, ...]:
        """One normalised word's ids: greedy longest match, `##` pieces after the first; one [UNK] when a piece is
        not in the vocabulary or the word is longer than MAX_WORD_CHARS characters."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        out: tuple[int, ...] = (self._unk,)
        if len(word) <= MAX_WORD_CHARS:
            pieces: list[int] = []
            start = 0
            while start < len(word):
                end = len(word)
                while end > start:
                    piece = word[start:end] if start == 0 else PREFIX + word[start:end]
                    if piece in self._ids:
                        pieces.append(self._ids[piece])
                        break
                    end -= 1
                if end == start:
                    break
                start = end
            else:
                out = tuple(pieces)
        self._cache[word] = out
        return out

    def token_ids(self, text: str) -> list[int]:
        """The ids of `text` (no [CLS]/[SEP] added; a special token written in the text is that token)."""
        ids: list[int] = []
        for part, special in _split_special(text):
            if special and part in self._ids:
                ids.append(self._ids[part])
            else:
                for word in normalized_words(part):
                    ids.extend(self.word_ids(word))
        return ids


def _split_special(text: str) -> Iterable[tuple[str, bool]]:
    if "[" not in text:
        yield text, False
        return
    start = 0
    for match in _SPECIAL.finditer(text):
        yield text[start : match.start()], False
        yield match.group(), True
        start = match.end()
    yield text[start:], False


def first_words(text: str, max_words: int | None) -> str:
    """The first `max_words` whitespace-separated words of `text` (str.split), or all of it when None."""
    if max_words is None:
        return text
    words = text.split(maxsplit=max_words)
    return " ".join(words[:max_words])


@dataclass
class StaticEmbedding:
    """The distilled table (vocab_size x dim, float32 once loaded), per-token weights and the tokenizer."""

    tokenizer: WordPieceTokenizer
    vectors: np.ndarray  # (vocab_size, dim) float32
    weights: np.ndarray  # (vocab_size,) float32: a token's weight in an article's mean
    version: str  # short checksum of the table: stored with models so that a changed table is detected

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def vocab_size(self) -> int:
        return int(self.vectors.shape[0])

    def token_ids(self, text: str) -> list[int]:
        return self.tokenizer.token_ids(text)

    def counts(self, texts: Sequence[str], *, max_words: int | None = 200) -> sp.csr_matrix:
        """(n x vocab_size) token counts of the first `max_words` words of each text."""
        indptr = [0]
        indices: list[int] = []
        for text in texts:
            indices.extend(self.tokenizer.token_ids(first_words(text, max_words)))
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float32)
        counts = sp.csr_matrix(
            (data, np.asarray(indices, dtype=np.int32), np.asarray(indptr, dtype=np.int64)),
            shape=(len(texts), self.vocab_size),
        )
        counts.sum_duplicates()
        return counts

    def embed(self, texts: Sequence[str], *, max_words: int | None = 200) -> np.ndarray:
        """(n, dim) float32: the weighted mean of the tokens' vectors of each text's first `max_words` words,
        l2-normalised; a text with no token (or only weight-0 tokens) gives a zero row."""
        weighted = self.counts(texts, max_words=max_words) @ sp.diags(self.weights)
        out = np.asarray(weighted @ self.vectors, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out


def table_version(sha256: str) -> str:
    return sha256[:12]


def dequantize(codes: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """int8 codes with a float32 scale per row back to float32 (code * scale)."""
    return codes.astype(np.float32) * scales.astype(np.float32)[:, None]


def parse_table(blob: bytes, vocab_text: str) -> StaticEmbedding:
    """A StaticEmbedding from the bytes of table.npz (int8 `codes`, float32 `scales` and `weights`; no pickle) and
    the text of vocab.txt (one token a line)."""
    import io

    vocab = vocab_text.split("\n")
    if vocab and vocab[-1] == "":
        vocab.pop()
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        vectors = dequantize(npz["codes"], npz["scales"])
        weights = npz["weights"].astype(np.float32)
    if vectors.shape[0] != len(vocab) or weights.shape != (len(vocab),):
        raise ValueError(f"embedding table of {vectors.shape[0]} rows for a vocabulary of {len(vocab)} tokens")
    return StaticEmbedding(WordPieceTokenizer(vocab), vectors, weights, table_version(hashlib.sha256(blob).hexdigest()))


@functools.cache
def load_static_embedding() -> StaticEmbedding:
    """The shipped static embedding (features/data/embedding/), read once per process."""
    folder = resources.files("features").joinpath("data", "embedding")
    return parse_table(
        folder.joinpath(TABLE_FILE).read_bytes(), folder.joinpath(VOCAB_FILE).read_text(encoding="utf-8")
    )
