"""The static embedding (features.embedding): the tokenizer equals the model's own, embeddings are unit rows (or
zero), deterministic, cut at max_words, and the shipped table is the one its provenance names."""

from __future__ import annotations

import hashlib
import json
from importlib import resources

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.embedding import (
    DIM,
    TABLE_FILE,
    TABLE_SHA256,
    VOCAB_FILE,
    StaticEmbedding,
    WordPieceTokenizer,
    first_words,
    load_static_embedding,
    normalized_words,
    parse_table,
)

from .conftest import FIXTURES

DATA = resources.files("features").joinpath("data", "embedding")


@pytest.fixture(scope="module")
def emb() -> StaticEmbedding:
    return load_static_embedding()


def test_tokenizer_equals_the_models_tokenizer(emb: StaticEmbedding) -> None:
    """Reference ids computed once with `tokenizers` on the model's tokenizer.json (no special tokens added, no
    truncation): accents, CJK, Greek capitals, controls, odd whitespace, long words, special tokens, sample articles."""
    cases = json.loads((FIXTURES / "embedding_tokenizer.json").read_text(encoding="utf-8"))
    assert len(cases) >= 30
    mismatched = [c["text"][:40] for c in cases if emb.token_ids(c["text"]) != c["ids"]]
    assert mismatched == []


def test_wordpiece_greedy_longest_match_with_unknown_words() -> None:
    tok = WordPieceTokenizer(["[PAD]", "[UNK]", "un", "##aff", "##able", "##a", "aff", "a", "##b", "[CLS]"])
    assert tok.token_ids("unaffable") == [2, 3, 4]
    assert tok.token_ids("Affable") == [6, 4]  # longest first: "aff" + "##able", not "a" + ...
    assert tok.token_ids("aff aab") == [6, 7, 5, 8]
    assert tok.token_ids("a" * 101) == [1]  # longer than 100 characters: one [UNK]
    assert tok.token_ids("a" * 100) == [7] + [5] * 99
    assert tok.token_ids("x [CLS]") == [1, 9]  # a special token in the text is that token
    assert tok.token_ids("[MASK]") == [1, 1, 1]  # not in this vocabulary: plain text, "[", "mask", "]"


def test_affable_is_unknown_whole() -> None:
    """A word any of whose pieces is missing is one [UNK], not its found pieces."""
    tok = WordPieceTokenizer(["[UNK]", "aff", "##able"])
    assert tok.token_ids("affable affxble") == [1, 2, 0]


def test_normalized_words_split_punctuation_and_strip_accents() -> None:
    assert normalized_words("Café, naïve!\tÖl\u00a0x") == ["cafe", ",", "naive", "!", "ol", "x"]
    assert normalized_words("东京abc") == ["东", "京", "abc"]
    assert normalized_words("a\x00b\x07c") == ["abc"]


def test_embed_rows_are_unit_or_zero(emb: StaticEmbedding) -> None:
    x = emb.embed(["The senate passed the bill.", "", "   ", "Officials said, on condition of anonymity."])
    assert x.shape == (4, DIM) and x.dtype == np.float32
    norms = np.linalg.norm(x, axis=1)
    np.testing.assert_allclose(norms[[0, 3]], 1.0, rtol=1e-5)
    assert not x[1].any() and not x[2].any()


def test_embed_is_deterministic_and_order_free(emb: StaticEmbedding) -> None:
    texts = ["Sources close to the talks said a deal could come.", "Shares fell 3% on Monday."]
    a = emb.embed(texts)
    b = load_static_embedding().embed(texts[::-1])[::-1]
    np.testing.assert_array_equal(a, b)


def test_max_words_cuts_the_text(emb: StaticEmbedding) -> None:
    head = "The minister resigned after the report was published"
    tail = " completely different words about football and weather" * 20
    cut = emb.embed([head + tail], max_words=len(head.split()))
    np.testing.assert_allclose(cut, emb.embed([head], max_words=None), atol=1e-6)
    assert not np.allclose(cut, emb.embed([head + tail], max_words=None), atol=1e-3)
    assert first_words("a  b\nc d", 3) == "a b c" and first_words("a b", None) == "a b"


def test_embed_is_the_weighted_mean_of_token_vectors() -> None:
    vocab = ["[UNK]", "a", "b", "c"]
    vectors = np.array([[0, 0, 1], [1, 0, 0], [0, 2, 0], [3, 4, 0]], dtype=np.float32)
    weights = np.array([1.0, 0.5, 2.0, 0.0], dtype=np.float32)
    emb = StaticEmbedding(WordPieceTokenizer(vocab), vectors, weights, "test")
    expected = 2 * 0.5 * vectors[1] + 2.0 * vectors[2]  # "a a b c": c has weight 0
    out = emb.embed(["a a b c", "c"])
    np.testing.assert_allclose(out[0], expected / np.linalg.norm(expected), rtol=1e-6)
    assert not out[1].any()  # only weight-0 tokens: a zero row


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=80), min_size=1, max_size=4))
def test_any_text_gives_known_ids_and_a_unit_or_zero_row(texts: list[str]) -> None:
    emb = load_static_embedding()
    for text in texts:
        assert all(0 <= i < emb.vocab_size for i in emb.token_ids(text))
    norms = np.linalg.norm(emb.embed(texts), axis=1)
    assert np.all((np.abs(norms - 1) < 1e-4) | (norms == 0))


def test_shipped_table_matches_its_checksum_and_provenance(emb: StaticEmbedding) -> None:
    digest = hashlib.sha256(DATA.joinpath(TABLE_FILE).read_bytes()).hexdigest()
    assert digest == TABLE_SHA256
    assert TABLE_SHA256 in DATA.joinpath("PROVENANCE.md").read_text(encoding="utf-8")
    assert emb.version == TABLE_SHA256[:12]
    assert (emb.vocab_size, emb.dim) == (30522, DIM)
    assert emb.tokenizer.vocab[100] == "[UNK]" and emb.tokenizer.vocab[101] == "[CLS]"


def test_a_changed_table_changes_the_version() -> None:
    blob = DATA.joinpath(TABLE_FILE).read_bytes()
    vocab = DATA.joinpath(VOCAB_FILE).read_text(encoding="utf-8")
    with np.load(DATA.joinpath(TABLE_FILE).open("rb"), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["weights"] = arrays["weights"] * 2
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    assert parse_table(buffer.getvalue(), vocab).version != parse_table(blob, vocab).version


def test_a_table_that_does_not_fit_its_vocabulary_is_refused() -> None:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, codes=np.zeros((3, 4), np.int8), scales=np.ones(3, np.float32), weights=np.ones(3, np.float32))
    with pytest.raises(ValueError, match="3 rows for a vocabulary of 2"):
        parse_table(buffer.getvalue(), "[UNK]\na\n")
