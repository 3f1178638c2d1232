"""Free-running decoding for the Show-Attend-Tell captioner: greedy (batched) and beam search.

Both return, for every generated word, the attention map it was produced with (alpha_t over the G*G
locations) and the gate beta_t: the model's interpretability. Beam search ranks by summed
log-probabilities; finished hypotheses leave the beam (its width shrinks, as in the authors' code), so a
beam of 1 is exactly greedy; if no hypothesis emits ``<end>`` within ``max_len`` words, the best
unfinished one is returned. Neither ever emits ``<pad>``, ``<start>`` or ``<unk>`` (their probability is
set to 0 and the rest renormalised).

Two options against the failure modes of a small captioner's beam: ``no_repeat_ngram=n`` forbids a word that
would repeat an n-gram the hypothesis already holds ("a black dog and a black dog"; Paulus et al. 2018), and
``length_penalty=alpha`` ranks the finished hypotheses by ``log p / ((5 + |y|) / 6) ** alpha`` (Wu et al.
2016, Eq. 14) instead of ``log p``, which favours short captions.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from sightsound.errors import ParameterError
from sightsound.models.captioner import Captioner


@dataclass
class Caption:
    ids: list[int]              # generated word ids, without <start>/<end>
    alphas: torch.Tensor        # (len(ids), L) attention map of each word
    betas: torch.Tensor         # (len(ids),) gate of each word
    log_prob: float             # sum of the word log-probabilities (and of <end>, if emitted)
    finished: bool              # True if <end> was emitted


def word_log_probs(model: Captioner, logits: torch.Tensor) -> torch.Tensor:
    """Word log-probabilities without the ids a caption must not contain."""
    c = model.config
    banned = [i for i in (c.pad_id, c.start_id, c.unk_id) if 0 <= i < logits.shape[-1]]
    logits = logits.clone()
    logits[:, banned] = float("-inf")
    return torch.log_softmax(logits, dim=-1)


@torch.no_grad()
def greedy(model: Captioner, inputs: torch.Tensor, max_len: int | None = None) -> list[Caption]:
    """Arg-max decoding of a batch: inputs (B, L, C) features or (B, 3, S, S) images."""
    max_len = max_len or model.config.max_len
    a = model.annotations(inputs)
    h, c, projected = model.init_state(a)
    batch = a.shape[0]
    word = torch.full((batch,), model.config.start_id, dtype=torch.long, device=a.device)
    done = torch.zeros(batch, dtype=torch.bool, device=a.device)
    ids, alphas, betas, logps = [], [], [], []
    for _ in range(max_len + 1):  # max_len words, then one more step that may emit <end>
        logits, h, c, alpha, beta = model.step(a, projected, word, h, c)
        logp = word_log_probs(model, logits)
        word = logp.argmax(dim=-1)
        ids.append(word)
        alphas.append(alpha)
        betas.append(beta.squeeze(1))
        logps.append(logp.gather(1, word[:, None]).squeeze(1))
        done = done | (word == model.config.end_id)
        if bool(done.all()):
            break
    ids, alphas, betas, logps = (torch.stack(x, 1) for x in (ids, alphas, betas, logps))  # (B, T[, L])
    out = []
    for b in range(batch):
        row = ids[b].tolist()
        finished = model.config.end_id in row
        n = row.index(model.config.end_id) if finished else min(len(row), max_len)
        total = float(logps[b, : n + 1].sum()) if finished else float(logps[b, :n].sum())
        out.append(Caption(row[:n], alphas[b, :n].cpu(), betas[b, :n].cpu(), total, finished))
    return out


def repeated_ngram_words(seq: list[int], n: int) -> list[int]:
    """The words that would complete an n-gram already in ``seq`` (after its last n - 1 words)."""
    if n < 1 or len(seq) < n - 1:
        return []
    prefix = tuple(seq[len(seq) - n + 1:]) if n > 1 else ()
    return [seq[i + n - 1] for i in range(len(seq) - n + 1) if tuple(seq[i:i + n - 1]) == prefix]


def length_normalised(log_prob: float, length: int, alpha: float) -> float:
    """GNMT's ranking score ``log p / ((5 + length) / 6) ** alpha`` (Wu et al. 2016, Eq. 14); alpha 0 is log p."""
    return log_prob / ((5.0 + length) / 6.0) ** alpha if alpha else log_prob


@torch.no_grad()
def beam_search(model: Captioner, inputs: torch.Tensor, beam: int = 3, max_len: int | None = None,
                no_repeat_ngram: int = 0, length_penalty: float = 0.0) -> Caption:
    """Beam search for ONE image: inputs (1, L, C) features or (1, 3, S, S) image. ``no_repeat_ngram`` n > 0
    blocks repeated n-grams; ``length_penalty`` alpha > 0 ranks finished captions by length-normalised
    log-probability (see the module docstring)."""
    if beam < 1:
        raise ParameterError("beam must be >= 1")
    if no_repeat_ngram < 0 or length_penalty < 0:
        raise ParameterError("no_repeat_ngram and length_penalty must be >= 0")
    max_len = max_len or model.config.max_len
    a = model.annotations(inputs)  # (1, L, C)
    h, c, projected = model.init_state(a)
    vocab = model.config.vocab_size
    k = beam
    # live hypotheses: all tensors have k rows
    words = torch.full((1,), model.config.start_id, dtype=torch.long, device=a.device)
    scores = torch.zeros(1, device=a.device)
    seqs = torch.empty(1, 0, dtype=torch.long, device=a.device)
    seq_alphas = torch.empty(1, 0, a.shape[1], device=a.device)
    seq_betas = torch.empty(1, 0, device=a.device)
    finished: list[Caption] = []
    for step in range(max_len + 1):
        n = len(words)
        logits, h, c, alpha, beta = model.step(a.expand(n, -1, -1), projected.expand(n, -1, -1), words, h, c)
        logp = word_log_probs(model, logits)  # (n, V)
        if no_repeat_ngram:
            for row, seq in enumerate(seqs.tolist()):
                logp[row, repeated_ngram_words(seq, no_repeat_ngram)] = float("-inf")
        candidates = (scores[:, None] + logp).view(-1)  # (n * V,)
        k = min(k, int(torch.isfinite(candidates).sum()))
        if k == 0:
            break
        top_scores, top_index = candidates.topk(k)
        parents = torch.div(top_index, vocab, rounding_mode="floor")  # back-pointers: integer division
        next_words = top_index % vocab
        before = (seqs, seq_alphas, seq_betas, scores)
        seqs = torch.cat([seqs[parents], next_words[:, None]], dim=1)
        seq_alphas = torch.cat([seq_alphas[parents], alpha[parents][:, None]], dim=1)
        seq_betas = torch.cat([seq_betas[parents], beta[parents]], dim=1)
        ended = next_words == model.config.end_id
        for i in torch.nonzero(ended).flatten().tolist():
            finished.append(Caption(seqs[i, :-1].tolist(), seq_alphas[i, :-1].cpu(), seq_betas[i, :-1].cpu(),
                                    float(top_scores[i]), True))
        keep = ~ended
        k -= int(ended.sum())
        if k == 0:
            break
        if step == max_len:  # out of words without <end>: the live hypotheses (max_len words) compete too
            old_seqs, old_alphas, old_betas, old_scores = before
            for i in sorted(set(parents[keep].tolist())):
                finished.append(Caption(old_seqs[i].tolist(), old_alphas[i].cpu(), old_betas[i].cpu(),
                                        float(old_scores[i]), False))
            break
        seqs, seq_alphas, seq_betas = seqs[keep], seq_alphas[keep], seq_betas[keep]
        scores, words = top_scores[keep], next_words[keep]
        h, c = h[parents[keep]], c[parents[keep]]
    if not finished:  # every continuation blocked: the live hypotheses as they are
        finished = [Caption(seqs[i].tolist(), seq_alphas[i].cpu(), seq_betas[i].cpu(), float(scores[i]), False)
                    for i in range(len(seqs))]
    return max(finished, key=lambda cap: length_normalised(cap.log_prob, len(cap.ids) + cap.finished, length_penalty))


def decode(model: Captioner, inputs: torch.Tensor, beam: int = 1, max_len: int | None = None,
           no_repeat_ngram: int = 0, length_penalty: float = 0.0) -> list[Caption]:
    """Greedy for ``beam == 1`` without options (batched), else beam search image by image."""
    if beam == 1 and not no_repeat_ngram and not length_penalty:
        return greedy(model, inputs, max_len)
    return [beam_search(model, inputs[i: i + 1], beam, max_len, no_repeat_ngram, length_penalty)
            for i in range(len(inputs))]
