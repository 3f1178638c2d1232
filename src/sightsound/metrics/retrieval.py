"""Retrieval and classification metrics: ranks, recall@k, precision@k, confusion matrices.

Conventions: a similarity matrix ``sim`` is (Q, N), queries by candidates, higher is closer. With paired data the
positive of query i is candidate i (the diagonal). Ties count against the query: a candidate scoring exactly
the positive's score is ranked ahead of it (so a constant scorer gets the worst rank, never a lucky one).
"""

from __future__ import annotations

import torch

from sightsound.errors import ParameterError


def paired_ranks(sim: torch.Tensor) -> torch.Tensor:
    """(Q, Q) similarities with positives on the diagonal -> (Q,) 0-based rank of each query's positive."""
    if sim.dim() != 2 or sim.shape[0] != sim.shape[1]:
        raise ParameterError(f"paired retrieval needs a square (Q, Q) similarity matrix, got {tuple(sim.shape)}")
    positive = sim.diagonal()[:, None]  # (Q, 1)
    others = ~torch.eye(sim.shape[0], dtype=torch.bool, device=sim.device)
    return ((sim >= positive) & others).sum(dim=1)


def recall_at_k(ranks: torch.Tensor, ks: tuple[int, ...] = (1, 5, 10)) -> dict[str, float]:
    """Fraction of queries whose positive is among the first k candidates, for each k: {"r1": ..., ...}."""
    return {f"r{k}": float((ranks < k).float().mean()) for k in ks}


def chance_recall(n_candidates: int, ks: tuple[int, ...] = (1, 5, 10)) -> dict[str, float]:
    """Recall@k of a random ranking with one positive among ``n_candidates``: k / N."""
    return {f"r{k}": min(1.0, k / n_candidates) for k in ks}


def precision_at_k(sim: torch.Tensor, relevant: torch.Tensor, k: int) -> torch.Tensor:
    """(Q, N) similarities and (Q, N) relevance (bool) -> (Q,) fraction of each query's top k that is relevant."""
    if sim.shape != relevant.shape:
        raise ParameterError(f"sim {tuple(sim.shape)} and relevant {tuple(relevant.shape)} differ in shape")
    if not 1 <= k <= sim.shape[1]:
        raise ParameterError(f"k must be in 1..{sim.shape[1]}, got {k}")
    top = sim.topk(k, dim=1).indices  # (Q, k)
    return relevant.gather(1, top).float().mean(dim=1)


def confusion_matrix(truth: torch.Tensor, predicted: torch.Tensor, n_classes: int) -> torch.Tensor:
    """(K, K) counts: row = true class, column = predicted class."""
    index = truth.long() * n_classes + predicted.long()
    return torch.bincount(index, minlength=n_classes * n_classes).view(n_classes, n_classes)


def per_class_recall(confusion: torch.Tensor) -> torch.Tensor:
    """(K,) recall of each class (NaN for a class with no examples)."""
    totals = confusion.sum(dim=1).float()
    return confusion.diagonal().float() / totals.where(totals > 0, torch.tensor(float("nan")))
