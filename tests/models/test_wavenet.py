"""WaveNet: causality, receptive field, incremental == teacher-forced (both output types, both backends),
reproducible sampling, the mixture-of-logistics likelihood, speaker conditioning, pre-emphasis, the Vocoder API."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from sightsound.errors import ParameterError
from sightsound.models import wavenet_fast as G
from sightsound.models.wavenet import WaveNet, WaveNetConfig, discretized_mol_nll

BACKENDS = ["torch"] + (["numba"] if G.numba_available() else [])


def make(output="mulaw", dtype=torch.float64, seed=0, **changes) -> WaveNet:
    torch.manual_seed(seed)
    config = dataclasses.replace(WaveNetConfig.tiny(), output=output, **changes)
    model = WaveNet(config).to(dtype).eval()
    with torch.no_grad():  # larger-than-init weights make any indexing slip visible
        for p in model.parameters():
            p.mul_(2.0)
    return model


def inputs(model, frames=5, batch=2, dtype=torch.float64, seed=1):
    c = model.config
    g = torch.Generator().manual_seed(seed)
    mel = torch.randn(batch, c.n_mels, frames + 2 * c.cond_context, generator=g, dtype=dtype)
    wave = 0.6 * torch.rand(batch, frames * c.hop_length, generator=g, dtype=dtype) - 0.3
    return wave, mel


@pytest.mark.parametrize("output", ["mulaw", "mol"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_incremental_equals_parallel(output, backend):
    model = make(output)
    wave, mel = inputs(model)
    with torch.no_grad():
        parallel = model(wave, mel)  # (B, S, Q)
    stepwise = G.teacher_forced_logits(model, wave, mel, backend=backend)
    assert stepwise.shape == parallel.shape
    assert float((stepwise - parallel).abs().max()) <= 1e-5


@pytest.mark.parametrize("backend", BACKENDS)
def test_incremental_equals_parallel_float32_with_speaker(backend):
    model = make("mulaw", torch.float32, n_speakers=3, kernel_size=3)
    wave, mel = inputs(model, dtype=torch.float32)
    speaker = torch.tensor([2, 0])
    parallel = model(wave, mel, speaker)
    stepwise = G.teacher_forced_logits(model, wave, mel, speaker, backend=backend)
    assert (stepwise - parallel).abs().max() <= 1e-4
    other = model(wave, mel, torch.tensor([1, 1]))
    assert (other - parallel).abs().max() > 1e-3  # the speaker matters


def test_causal_and_receptive_field():
    model = make("mulaw", kernel_size=3)
    c = model.config
    assert model.receptive_field() == (c.receptive_field, 1000.0 * c.receptive_field / c.sample_rate)
    assert c.receptive_field == (c.kernel_size - 1) * sum(c.dilations) + 1
    wave, mel = inputs(model, frames=12, batch=1)
    t = wave.shape[1] - 1
    base = model(wave, mel)[0, t]
    for offset, changes in ((0, False), (c.receptive_field, True), (c.receptive_field + 1, False)):
        w = wave.clone()
        w[0, t - offset] += 0.5  # 0: the predicted sample itself must not be seen
        moved = (model(w, mel)[0, t] - base).abs().max() > 1e-9
        assert moved == changes, f"sample t-{offset}"


def test_generation_reproducible_and_backends_agree():
    model = make("mulaw")
    _, mel = inputs(model, batch=2)
    mel = mel[..., 1:-1]  # generate() adds its own context
    runs = {b: model.generate(mel, generator=torch.Generator().manual_seed(7), backend=b) for b in BACKENDS}
    again = model.generate(mel, generator=torch.Generator().manual_seed(7), backend=BACKENDS[-1])
    other = model.generate(mel, generator=torch.Generator().manual_seed(8), backend=BACKENDS[-1])
    first = runs[BACKENDS[0]]
    assert first.shape == (2, mel.shape[-1] * model.config.hop_length)
    assert torch.equal(again, runs[BACKENDS[-1]])
    assert not torch.equal(other, again)
    for wave in runs.values():
        assert torch.allclose(wave, first, atol=1e-9)
    levels = set(G.AF.mu_law_decode(torch.arange(64), 64, dtype=torch.float64).tolist())
    assert set(first.flatten().tolist()) <= levels  # mu-law samples are quantised levels


def test_generation_mol_batch_of_different_lengths():
    model = make("mol")
    _, mel = inputs(model, frames=6, batch=2)
    wave = model.generate(mel[..., 1:-1], torch.tensor([6, 3]), generator=torch.Generator().manual_seed(0))
    hop = model.config.hop_length
    assert wave.shape == (2, 6 * hop)
    assert wave.abs().max() <= 1.0
    assert torch.all(wave[1, 3 * hop:] == 0) and wave[1, : 3 * hop].abs().sum() > 0


def test_mixture_of_logistics_is_a_distribution():
    """exp(-nll) summed over every 16-bit level is 1 (the edge bins take the tails)."""
    n_bins, n_mix = 65536, 3
    levels = torch.linspace(-1, 1, n_bins, dtype=torch.float64)
    logits = torch.tensor([0.3, -1.0, 0.5, -0.2, 0.1, 0.9, -3.0, -4.0, -2.5], dtype=torch.float64)
    nll = discretized_mol_nll(logits.expand(1, n_bins, -1), levels[None], n_mix, -7.0, n_bins)
    assert abs(float(torch.exp(-nll).sum()) - 1.0) < 1e-3
    # a sharp single component puts its mass at its mean
    sharp = torch.tensor([5.0, -5.0, -5.0, 0.25, 0.0, 0.0, -6.0, 0.0, 0.0], dtype=torch.float64)
    near, far = discretized_mol_nll(sharp.expand(1, 2, -1), torch.tensor([[0.25, -0.5]], dtype=torch.float64), 3, -7.0)[0]
    assert near < far


def test_mulaw_nll_matches_cross_entropy_of_uniform():
    model = make("mulaw")
    wave, mel = inputs(model)
    flat = torch.zeros(*wave.shape, model.config.out_channels, dtype=wave.dtype)
    assert math.isclose(float(model.nll(flat, wave)), math.log(model.config.out_channels), rel_tol=1e-6)


def test_config_errors():
    with pytest.raises(ParameterError, match="multiply"):
        WaveNetConfig(upsample_scales=(10, 10))  # 100, not the tts16k preset's hop of 200
    with pytest.raises(ParameterError, match="unknown audio preset"):
        WaveNetConfig(audio_preset="nope").hop_length
    with pytest.raises(ParameterError, match="output"):
        WaveNetConfig(output="wav")
    with pytest.raises(ParameterError, match="pre_emphasis"):
        WaveNetConfig(pre_emphasis=1.0)
    model = make()
    wave, mel = inputs(model)
    with pytest.raises(ParameterError, match="do not match"):
        model(wave[:, :-1], mel)
    with pytest.raises(ParameterError, match="backend"):
        model.generate(mel[..., 1:-1], backend="cuda-magic")
    with pytest.raises(ParameterError, match="mel must be"):
        model.generate(torch.zeros(1, 3, 4))


def test_describe_mentions_receptive_field():
    text = WaveNet(WaveNetConfig.cpu()).describe()
    assert "receptive field 253 samples = 15.8 ms" in text
    assert "pre-emphasised signal (a = 0.97)" in WaveNet(dataclasses.replace(WaveNetConfig.cpu(), pre_emphasis=0.97)).describe()


@pytest.mark.parametrize("output", ["mulaw", "mol"])
def test_fast_generation_draws_what_naive_recomputation_draws(output):
    """Fast WaveNet's ring buffers give exactly the full-recompute result (same uniforms, same sampler)."""
    model = make(output, kernel_size=3)
    _, mel = inputs(model, frames=5, batch=2)
    mel = mel[..., 1:-1]
    fast = model.generate(mel, generator=torch.Generator().manual_seed(4), backend=BACKENDS[-1])
    naive = G.generate_naive(model, mel, fast.shape[1], generator=torch.Generator().manual_seed(4))
    assert torch.allclose(fast, naive, atol=1e-9)


@pytest.mark.parametrize("output", ["mulaw", "mol"])
def test_pre_emphasis_models_the_first_difference(output):
    """With ``pre_emphasis`` a the network models e[n] = x[n] - a x[n-1]: it is fed and scored on e, its
    step-by-step logits equal the parallel pass, and generation hands back the de-emphasised draws (the
    same draws as the plain model's, whose weights it shares); teacher forcing the generated waveform
    reproduces the generation's logits, and its first differences lie on the mu-law levels drawn."""
    a = 0.9
    plain, emphasised = make(output), make(output, pre_emphasis=a)  # same seed: same weights
    wave, mel = inputs(plain)
    e = wave.clone()
    e[:, 1:] -= a * wave[:, :-1]
    with torch.no_grad():
        logits = emphasised(wave, mel)
        assert torch.equal(logits, plain(e, mel))  # fed e
        assert torch.equal(emphasised.nll(logits, wave), plain.nll(logits, e))  # scored on e
    for backend in BACKENDS:
        stepwise = G.teacher_forced_logits(emphasised, wave, mel, backend=backend)
        assert float((stepwise - logits).abs().max()) <= 1e-5
    gen = torch.Generator
    with torch.no_grad():
        cond = emphasised.conditioning(mel)
    for backend in BACKENDS:
        uniforms = torch.rand(2, cond.shape[1], 2, generator=gen().manual_seed(3), dtype=torch.float64)
        with torch.no_grad():
            drawn, drawn_logits = G.run(emphasised, cond, None, mode=G.MODE_MULAW if output == "mulaw" else G.MODE_MOL,
                                        uniforms=uniforms, backend=backend, record=True)
        x = G.AF.de_emphasis(drawn, a)
        again = G.teacher_forced_logits(emphasised, x, mel, backend=backend)
        assert float((again - drawn_logits).abs().max()) <= 1e-6
        if output == "mulaw":
            levels = G.AF.mu_law_decode(torch.arange(64), 64, dtype=torch.float64)
            steps = G.AF.pre_emphasis(x, a).flatten()
            assert float((steps[:, None] - levels[None]).abs().min(1).values.max()) < 1e-9
    mel = mel[..., 1:-1]
    x = emphasised.generate(mel, torch.tensor([5, 2]), generator=gen().manual_seed(3))
    e_drawn = plain.generate(mel, torch.tensor([5, 2]), generator=gen().manual_seed(3))
    hop = plain.config.hop_length
    assert torch.allclose(x[0], G.AF.de_emphasis(e_drawn[0], a), atol=1e-12)
    assert torch.allclose(x[1, : 2 * hop], G.AF.de_emphasis(e_drawn[1, : 2 * hop], a), atol=1e-12)
    assert torch.all(x[1, 2 * hop:] == 0)  # past its length, silence
    naive = G.generate_naive(emphasised, mel, x.shape[1], generator=gen().manual_seed(3))
    assert torch.allclose(naive[0], x[0], atol=1e-9)


def test_audio_settings_come_from_the_named_preset():
    """One owner: n_mels, hop and rate are the preset's, for every config preset (tiny names a preset that fits)."""
    from sightsound.audio.presets import get_preset

    for config in (WaveNetConfig.tiny(), WaveNetConfig.cpu(), WaveNetConfig.paper()):
        preset = get_preset(config.audio_preset)
        assert (config.n_mels, config.hop_length, config.sample_rate) == (preset.n_mels, preset.hop_length,
                                                                          preset.sample_rate)
        assert math.prod(config.upsample_scales) == preset.hop_length
