"""Tacotron 2: step-wise teacher forcing equals the training pass, stopping (gate, attention fallback,
step limit), batched inference with masks, the losses and the focus rate by hand."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from sightsound.attention.functional import attention_entropy
from sightsound.errors import ParameterError
from sightsound.models.tacotron2 import (
    Tacotron2,
    Tacotron2Config,
    focus_rate,
    guided_attention_weights,
    tacotron2_losses,
)
from sightsound.text import symbols as S


def make(**changes) -> Tacotron2:
    torch.manual_seed(0)
    config = dataclasses.replace(Tacotron2Config.tiny(), prenet_dropout=0.0, dropout=0.0, **changes)
    return Tacotron2(config).eval()


def batch(r=2):
    texts = ["bin blue at f two now", "set red by a one"]
    symbols = [S.encode(t) for t in texts]
    L = max(len(s) for s in symbols)
    ids = torch.zeros(2, L, dtype=torch.long)
    for i, s in enumerate(symbols):
        ids[i, : len(s)] = s
    lengths = torch.tensor([len(s) for s in symbols])
    mel = torch.randn(2, 80, 12 * r, generator=torch.Generator().manual_seed(1)) - 5
    return ids, lengths, mel


def test_stepwise_teacher_forcing_equals_training_pass():
    model = make()
    ids, lengths, mel = batch()
    with torch.no_grad():
        before, after, gates, alignments = model(ids, lengths, mel)
        memory, processed, mask = model.encode(ids, lengths)
        state = model.initial_state(memory)
        frames, step_gates = [], []
        for prev in model.teacher_inputs(mel).unbind(1):  # one step at a time, prenet per step
            f, g, a, state = model._step(model.prenet(prev), state, memory, processed, mask)
            frames.append(f)
            step_gates.append(g)
    stepwise = torch.stack(frames, 1).reshape(2, -1, 80).transpose(1, 2)
    assert torch.allclose(stepwise, before, atol=1e-5)
    assert torch.allclose(torch.stack(step_gates, 1), gates, atol=1e-5)
    assert torch.allclose(alignments.sum(-1), torch.ones(2, alignments.shape[1]), atol=1e-5)
    assert torch.all(alignments[1, :, lengths[1]:] == 0)  # padding gets no attention


def test_free_running_feeds_back_its_own_frames():
    """Teacher forcing with the model's own free-running frames reproduces the free run."""
    model = make(eos_patience=1000)
    ids, lengths, _ = batch()
    out = model.infer(ids[:1], lengths[:1], max_steps=6, gate_threshold=2.0)  # the gate cannot fire
    assert out["hit_limit"].item() and out["lengths"].item() == 12
    with torch.no_grad():
        before, after, _, alignments = model(ids[:1], lengths[:1], out["mel_before"])
    assert torch.allclose(before, out["mel_before"], atol=1e-5)
    assert torch.allclose(after, out["mel"], atol=1e-5)
    assert torch.allclose(alignments, out["alignments"], atol=1e-5)


def test_stopping_gate_limit_and_attention_fallback():
    model = make(eos_patience=3)
    ids, lengths, _ = batch()
    with torch.no_grad():
        model.gate_proj.bias.fill_(50.0)  # the gate fires at once
    out = model.infer(ids, lengths, max_steps=20)
    assert out["lengths"].tolist() == [2, 2] and not out["hit_limit"].any()
    patient = make(eos_patience=1000)
    with torch.no_grad():
        patient.gate_proj.bias.fill_(-50.0)  # never fires, and no attention fallback
        model.gate_proj.bias.fill_(-50.0)
    out = patient.infer(ids, lengths, max_steps=7)
    assert out["hit_limit"].all() and out["lengths"].tolist() == [14, 14]
    one = torch.tensor([[S.SYMBOL_ID[S.EOS]]])  # a single symbol: attention sits on the end symbol at once
    out = model.infer(one, torch.tensor([1]), max_steps=50)
    assert not out["hit_limit"].any() and out["lengths"].item() == 3 * model.config.reduction


def test_batched_inference_equals_single():
    model = make(eos_patience=1000)
    ids, lengths, _ = batch()
    both = model.infer(ids, lengths, max_steps=8, gate_threshold=2.0)
    alone = model.infer(ids[1:, : lengths[1]], lengths[1:], max_steps=8, gate_threshold=2.0)
    n = alone["lengths"].item()
    assert torch.allclose(both["mel"][1, :, :n], alone["mel"][0, :, :n], atol=1e-5)
    L = lengths[1].item()
    assert torch.allclose(both["alignments"][1, :, :L], alone["alignments"][0], atol=1e-5)


def test_losses_by_hand():
    config = dataclasses.replace(Tacotron2Config.tiny(), reduction=1, gate_pos_weight=1.0)
    mel = torch.zeros(1, 2, 4)
    before, after = torch.ones(1, 2, 4), torch.full((1, 2, 4), 2.0)
    gates = torch.zeros(1, 4)
    alignments = torch.full((1, 4, 3), 1 / 3)
    losses = tacotron2_losses(config, mel, torch.tensor([3]), torch.tensor([3]), before, after, gates, alignments)
    assert losses["mel"] == pytest.approx(1.0) and losses["postnet"] == pytest.approx(4.0)  # padded frame 4 masked
    assert losses["gate"] == pytest.approx(torch.log(torch.tensor(2.0)).item())  # logit 0: BCE = ln 2 for any target
    W = guided_attention_weights(2, 2, torch.tensor([2]), torch.tensor([2]), 0.4)[0]
    expected = 1 - torch.exp(torch.tensor(-(0.5**2) / (2 * 0.4**2)))
    assert torch.allclose(W, torch.tensor([[0.0, expected], [expected, 0.0]]))
    a = torch.tensor([[[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]])
    assert focus_rate(a, torch.tensor([4]), 2) == pytest.approx((0.9 + 0.8) / 2)  # 2 valid steps of r = 2
    assert losses["entropy"] == pytest.approx(torch.log(torch.tensor(3.0)).item())  # uniform over 3 symbols


def test_l1_mel_loss_by_hand():
    mel = torch.zeros(1, 2, 4)
    before, after = torch.full((1, 2, 4), -3.0), torch.full((1, 2, 4), 2.0)
    before[..., 3] = after[..., 3] = 100.0  # the padded frame is masked
    args = (mel, torch.tensor([3]), torch.tensor([3]), before, after, torch.zeros(1, 4), torch.full((1, 4, 3), 1 / 3))
    base = dataclasses.replace(Tacotron2Config.tiny(), reduction=1)
    for kind, want_mel, want_post in (("mse", 9.0, 4.0), ("l1", 3.0, 2.0), ("l1+mse", 12.0, 6.0)):
        losses = tacotron2_losses(dataclasses.replace(base, mel_loss=kind), *args)
        assert losses["mel"] == pytest.approx(want_mel) and losses["postnet"] == pytest.approx(want_post)
        assert losses["postnet_mse"] == pytest.approx(4.0)  # reported whatever the training loss
    with pytest.raises(ParameterError, match="mel_loss"):
        dataclasses.replace(base, mel_loss="huber")


def test_attention_entropy_by_hand_and_in_the_loss():
    a = torch.tensor([[[1.0, 0.0], [0.5, 0.5], [0.3, 0.7]]])  # the third step is padding
    assert attention_entropy(a, torch.tensor([[True, True, False]])) == pytest.approx(0.5 * math.log(2))
    assert attention_entropy(torch.full((3, 4), 0.25)) == pytest.approx(math.log(4))
    ids, lengths, mel = batch()
    plain = make()
    sharp = make(attention_entropy_weight=0.5)
    sharp.load_state_dict(plain.state_dict())
    (total0, m0), (total1, m1) = plain.loss((ids, lengths, mel, torch.tensor([24, 20]))), \
        sharp.loss((ids, lengths, mel, torch.tensor([24, 20])))
    assert m0["entropy"] > 0 and total1.item() == pytest.approx(total0.item() + 0.5 * m0["entropy"], rel=1e-5)
    with pytest.raises(ParameterError, match="entropy"):
        Tacotron2Config(attention_entropy_weight=-1.0)


def test_config_and_input_errors():
    with pytest.raises(ParameterError):
        Tacotron2Config(encoder_dim=33)
    model = make()
    ids, lengths, mel = batch()
    with pytest.raises(ParameterError, match="multiple"):
        model(ids, lengths, mel[..., :-1])


def test_init_from_another_reduction_factor():
    """train.init_from a model with r = 2 into r = 1: every weight but the frame projection is copied, whose
    first frame block carries over (so the r = 1 model predicts what the r = 2 one put first)."""
    r2, r1 = make(reduction=2), make(reduction=1)
    state = r2.state_dict()
    r1.init_from_state(state)
    M = r1.config.n_mels
    assert torch.equal(r1.frame_proj.weight, state["frame_proj.weight"][:M])
    assert all(torch.equal(v, state[k]) for k, v in r1.state_dict().items() if not k.startswith("frame_proj"))
    ids, lengths, mel = batch(r=2)
    first = r2(ids, lengths, mel)[0][:, :, 0]  # the first frame: both see the same zero "go" frame
    assert torch.allclose(r1(ids, lengths, mel)[0][:, :, 0], first, atol=1e-6)
    r3 = make(reduction=3)
    r3.init_from_state(state)  # blocks 0, 1, 1
    assert torch.equal(r3.frame_proj.bias[2 * M:], state["frame_proj.bias"][M:])
    with pytest.raises(ParameterError, match="mels"):
        r1.init_from_state({**state, "frame_proj.weight": state["frame_proj.weight"][:-1]})


@pytest.mark.parametrize("r", [1, 2])
def test_compiled_decoder_equals_the_torch_loop(r):
    """The numba loop (``tacotron2_fast``) decodes what ``_step`` does, with the prenet's dropout on, through
    the attention fallback, the gate and the step limit, batched with padding."""
    pytest.importorskip("numba")
    torch.manual_seed(0)
    model = Tacotron2(dataclasses.replace(Tacotron2Config.tiny(), reduction=r, eos_patience=2)).eval()
    ids, lengths, _ = batch(r)
    for kwargs in ({"max_steps": 40}, {"max_steps": 9, "gate_threshold": 2.0}, {"max_steps": 40, "gate_threshold": 0.52}):
        torch.manual_seed(5)
        ours = model.infer(ids, lengths, backend="numba", **kwargs)
        torch.manual_seed(5)
        theirs = model.infer(ids, lengths, backend="torch", **kwargs)
        assert ours["lengths"].tolist() == theirs["lengths"].tolist()
        assert ours["hit_limit"].tolist() == theirs["hit_limit"].tolist()
        assert torch.allclose(ours["mel"], theirs["mel"], atol=1e-4)
        assert torch.allclose(ours["alignments"], theirs["alignments"], atol=1e-5)
    assert theirs["lengths"].min() < 40 * r  # the last setting stopped early (gate or fallback), not at the limit
    with pytest.raises(ParameterError, match="numba"):
        model.double().infer(ids, lengths, backend="numba")
    with pytest.raises(ParameterError, match="backend"):
        model.infer(ids, lengths, backend="cuda")
