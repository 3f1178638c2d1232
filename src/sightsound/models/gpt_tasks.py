"""The GPT-1 fine-tuning heads: classification, two-text similarity and multiple choice.

Radford et al. 2018, Sec. 3.3 and Fig. 1: a pretrained GPT body (``models/gpt.py``) reads task inputs framed
by three new tokens, and one linear layer on the final hidden state at the ``extract`` token gives the
task's scores; the LM loss stays on as an auxiliary objective (Eq. 5).

Axis legend: B batch, K choices or orders, L tokens, D model width, V vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace as dataclasses_replace

import torch
import torch.nn.functional as F_nn
from torch import nn

from sightsound.errors import ParameterError
from sightsound.models.gpt import GPT, GPTConfig

TASKS = ("classification", "similarity", "multiple_choice")


@dataclass(frozen=True)
class GPTTaskConfig:
    """A pretrained GPT body plus one task head (Radford et al. 2018, Sec. 3.3 and Fig. 1)."""

    body: GPTConfig = GPTConfig()
    task: str = "classification"
    n_classes: int = 2              # classification / similarity classes (multiple choice: 1 score per choice)
    lm_weight: float = 0.5          # lambda of the auxiliary language-model loss, Eq. (5)
    head_dropout: float = 0.1

    def __post_init__(self):
        if isinstance(self.body, dict):  # from JSON
            object.__setattr__(self, "body", GPTConfig(**self.body))
        if self.task not in TASKS:
            raise ParameterError(f"task must be one of {', '.join(TASKS)}, got {self.task!r}")

    @classmethod
    def tiny(cls) -> "GPTTaskConfig":
        return cls(body=GPTConfig.tiny())

    @classmethod
    def cpu(cls) -> "GPTTaskConfig":
        # the body recipes/char_lm.py's cpu preset trains (and char-lm-shakespeare ships): an untied output layer
        return cls(body=dataclasses_replace(GPTConfig.cpu(), tie_weights=False))

    @classmethod
    def paper(cls) -> "GPTTaskConfig":
        return cls(body=GPTConfig.base())


class GPTForTask(nn.Module):
    """GPT-1 fine-tuning: the inputs are token sequences framed by the three special tokens the
    body's vocabulary is extended with — ``start`` = V, ``delim`` = V + 1, ``extract`` = V + 2 —
    and a linear layer reads the final hidden state at the ``extract`` token:

    * classification: ``[start] text [extract]`` -> softmax over classes;
    * similarity: both orders ``[start] A [delim] B [extract]`` and ``[start] B [delim] A [extract]``,
      their extract states summed element-wise -> softmax over classes;
    * multiple choice: ``[start] context [delim] answer_k [extract]`` for each k -> one score each,
      softmax over the choices.

    The loss is ``L_task + lm_weight * L_LM`` (Eq. 5), the LM term on the same sequences.
    batch = (ids, lengths, labels): ids (B, L) for classification, (B, 2, L) for similarity (the two
    orders), (B, K, L) for multiple choice; right-padded; lengths count tokens up to ``extract``.
    """

    def __init__(self, config: GPTTaskConfig):
        super().__init__()
        self.config = config
        body = dataclasses_replace(config.body, vocab_size=config.body.vocab_size + 3)
        self.body = GPT(body)
        self.base_vocab = config.body.vocab_size
        self.start_id, self.delim_id, self.extract_id = self.base_vocab, self.base_vocab + 1, self.base_vocab + 2
        self.dropout = nn.Dropout(config.head_dropout)
        n_out = 1 if config.task == "multiple_choice" else config.n_classes
        self.head = nn.Linear(body.n_embd, n_out)
        nn.init.normal_(self.head.weight, 0.0, 0.02)
        nn.init.zeros_(self.head.bias)

    def init_from_state(self, state: dict[str, torch.Tensor], where: str = "the pretrained weights") -> None:
        """Load a pretrained GPT's weights into the body; the 3 new token embeddings keep their init.

        Every tensor of the body must be in ``state`` with its shape (the vocabulary rows aside) and nothing
        else; an untied output layer cannot go into a tied body (it would overwrite the embedding): each is a
        ParameterError naming ``where``."""
        own = self.body.state_dict()
        missing, unused = sorted(set(own) - set(state)), sorted(set(state) - set(own))
        if missing or unused:
            raise ParameterError(f"{where}: the pretrained GPT does not fit the body (missing: "
                                 f"{', '.join(missing[:3]) or 'none'}; unused: {', '.join(unused[:3]) or 'none'})")
        tied_in_file = torch.equal(state["tok_emb.weight"], state["lm_head.weight"])
        if tied_in_file != self.config.body.tie_weights:
            raise ParameterError(f"{where}: the pretrained GPT has {'a tied' if tied_in_file else 'an untied'} output "
                                 f"layer, the body tie_weights={self.config.body.tie_weights}; make the preset match")
        for name, value in state.items():
            rows = self.base_vocab if name in ("tok_emb.weight", "lm_head.weight") else None
            target = own[name][:rows] if rows else own[name]
            if tuple(target.shape) != tuple(value.shape):
                raise ParameterError(f"{where}: {name} has shape {tuple(value.shape)}, the body {tuple(target.shape)}")
            if name == "lm_head.weight" and self.config.body.tie_weights:
                continue  # the same tensor as the embedding, loaded once
            target.copy_(value)
        self.body.load_state_dict(own)

    def _extract_states(self, ids: torch.Tensor, lengths: torch.Tensor):
        flat_ids = ids.reshape(-1, ids.shape[-1])  # (B * K, L)
        flat_len = lengths.reshape(-1)
        h, _, _ = self.body.hidden_states(flat_ids)  # (B * K, L, D)
        last = h[torch.arange(h.shape[0], device=h.device), flat_len - 1]  # (B * K, D) at the extract token
        return h, last.reshape(*ids.shape[:-1], -1)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Task logits: (B, n_classes), or (B, K) scores for multiple choice."""
        _, states = self._extract_states(ids, lengths)
        if self.config.task == "similarity":
            states = states.sum(dim=1)  # (B, 2, D) -> (B, D): both orders
        logits = self.head(self.dropout(states))
        return logits.squeeze(-1) if self.config.task == "multiple_choice" else logits

    def loss(self, batch):
        ids, lengths, labels = batch
        h, states = self._extract_states(ids, lengths)
        if self.config.task == "similarity":
            states = states.sum(dim=1)
        logits = self.head(self.dropout(states))
        if self.config.task == "multiple_choice":
            logits = logits.squeeze(-1)  # (B, K)
        task_loss = F_nn.cross_entropy(logits, labels)
        # auxiliary LM loss on every real next token of every sequence (not the padding)
        flat_ids = ids.reshape(-1, ids.shape[-1])
        lm_logits = self.body.lm_head(h[:, :-1])  # (B * K, L - 1, V)
        targets = flat_ids[:, 1:].clone()
        positions = torch.arange(1, flat_ids.shape[1], device=ids.device).unsqueeze(0)
        targets[positions >= lengths.reshape(-1, 1)] = -100
        lm_loss = F_nn.cross_entropy(lm_logits.reshape(-1, lm_logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
        accuracy = (logits.argmax(-1) == labels).float().mean()
        total = task_loss + self.config.lm_weight * lm_loss
        return total, {"task_loss": float(task_loss.detach()), "lm_loss": float(lm_loss.detach()),
                       "accuracy": float(accuracy)}

    @torch.no_grad()
    def evaluate(self, batches) -> dict[str, float]:
        correct, total, loss_sum = 0, 0, 0.0
        for ids, lengths, labels in batches:
            logits = self(ids, lengths)
            loss_sum += float(F_nn.cross_entropy(logits, labels, reduction="sum"))
            correct += int((logits.argmax(-1) == labels).sum())
            total += len(labels)
        return {"loss": loss_sum / max(1, total), "accuracy": correct / max(1, total)}
