"""Looking to Listen (models/av_separation.py): the STFT/mask round trip, compression, PIT, shapes and batch
consistency; and a tiny model that learns to use a synthetic face to pick one of two tone voices."""

from __future__ import annotations

import pytest
import torch

from sightsound.audio import functional as AF
from sightsound.data import av_mixtures as am
from sightsound.errors import ParameterError, UserInputError
from sightsound.models.av_separation import (
    AVSeparation,
    AVSeparationConfig,
    complex_multiply,
    compress,
    decompress,
    permutation_invariant_mse,
)
from sightsound.training import recipes

TINY = AVSeparationConfig.tiny()


def _batch(B=3, V=10, config=TINY, seed=0):
    g = torch.Generator().manual_seed(seed)
    S = V * config.samples_per_video_frame
    return {"mixture": 0.1 * torch.randn(B, S, generator=g), "target": 0.1 * torch.randn(B, S, generator=g),
            "rest": 0.1 * torch.randn(B, S, generator=g), "mouths": torch.rand(B, V, *config.mouth_size, generator=g),
            "same_speaker": torch.tensor([0, 1, 0][:B])}


def test_roundtrip_all_ones_mask_returns_the_mixture():
    model = AVSeparation(TINY).eval()
    y = 0.1 * torch.randn(2, 10 * TINY.samples_per_video_frame, generator=torch.Generator().manual_seed(1))
    Xc = compress(model.stft(y), TINY.compress)
    ones = torch.zeros(2, 2, *Xc.shape[1:])
    ones[:, 0] = 1.0                                                    # M = 1 + 0i
    back = model.istft(decompress(complex_multiply(ones, Xc), TINY.compress), y.shape[1])
    assert torch.allclose(back, y, atol=1e-5)


def test_compression_is_inverted_and_keeps_the_phase():
    X = torch.complex(torch.randn(4, 5), torch.randn(4, 5))
    Xc = compress(X, 0.3)
    assert torch.allclose(Xc.abs(), X.abs() ** 0.3, atol=1e-5)
    assert torch.allclose(torch.angle(Xc), torch.angle(X), atol=1e-5)
    assert torch.allclose(decompress(Xc, 0.3), X, atol=1e-4)


def test_permutation_invariant_loss_takes_the_better_assignment():
    targets = torch.randn(2, 2, 6)
    swapped = targets.flip(1)
    loss, flags = permutation_invariant_mse(swapped, targets)
    assert float(loss) == pytest.approx(0.0, abs=1e-7) and flags.tolist() == [True, True]
    loss, flags = permutation_invariant_mse(targets + 0.1, targets)
    assert float(loss) == pytest.approx(0.01, rel=1e-4) and flags.tolist() == [False, False]


def test_shapes_and_batch_consistency():
    model = AVSeparation(TINY).eval()
    batch = _batch()
    with torch.no_grad():
        out = model(batch["mixture"], batch["mouths"])
        one = model(batch["mixture"][1:2], batch["mouths"][1:2])
    B, S = batch["mixture"].shape
    T = S // TINY.hop_length + 1
    assert out["masks"].shape == (B, 2, 2, T, TINY.bins)
    assert out["estimates"].shape == (B, 2, S)
    assert float(out["masks"].abs().max()) <= TINY.mask_bound
    assert torch.allclose(one["estimates"][0], out["estimates"][1], atol=1e-5)


def test_the_output_scales_with_the_input_level():
    model = AVSeparation(TINY).eval()
    batch = _batch(B=1)
    with torch.no_grad():
        a = model(batch["mixture"], batch["mouths"])["estimates"]
        b = model(10 * batch["mixture"], batch["mouths"])["estimates"]
    assert torch.allclose(10 * a, b, atol=1e-4)


def test_the_visual_stream_is_used_and_the_audio_only_model_has_none():
    batch = _batch(B=1)
    av = AVSeparation(TINY).eval()
    with torch.no_grad():
        a = av(batch["mixture"], batch["mouths"])["estimates"]
        b = av(batch["mixture"], batch["mouths"].flip(1))["estimates"]
    assert not torch.allclose(a, b)
    ao = AVSeparation(AVSeparationConfig(**{**TINY.__dict__, "visual": False}))
    assert ao.mouth is None
    with pytest.raises(UserInputError):
        av(batch["mixture"], None)
    with pytest.raises(ParameterError):
        av(batch["mixture"], batch["mouths"][:, :-1])        # video shorter than the audio
    with pytest.raises(ParameterError):
        AVSeparationConfig(visual=False, outputs=1)


def test_presets_build_and_the_paper_preset_has_the_papers_sizes():
    with torch.device("meta"):
        paper = AVSeparation(AVSeparationConfig.paper())
        cpu = AVSeparation(AVSeparationConfig.cpu())
    convs = [m for m in paper.audio.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 16 and convs[3].out_channels == 96           # 1x7, 7x1, 13 dilated, 1x1 to 8 maps
    assert paper.lstm.hidden_size == 400 and sum(isinstance(m, torch.nn.Linear) for m in paper.fc) == 3
    assert sum(p.numel() for p in cpu.parameters()) < sum(p.numel() for p in paper.parameters()) / 4


def test_loss_goes_down_and_evaluate_reports_both_kinds():
    torch.manual_seed(0)
    model = AVSeparation(TINY)
    batch = _batch()
    batch["target"], batch["rest"] = 0.7 * batch["mixture"], 0.3 * batch["mixture"]  # a mask the model can learn
    optimiser = torch.optim.Adam(model.parameters(), 3e-3)
    first = None
    for _ in range(15):
        loss, _ = model.loss(batch)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        first = first if first is not None else float(loss.detach())
    assert float(loss.detach()) < 0.8 * first
    model.eval()
    metrics = model.evaluate([batch])
    assert {"si_sdri_different", "si_sdri_same", "score", "loss"} <= set(metrics)


def test_auxiliary_head_predicts_band_energies_and_a_plain_model_initialises_it():
    config = AVSeparationConfig(**{**TINY.__dict__, "visual_aux": 1.0})
    model = AVSeparation(config)
    batch = _batch()
    loss, metrics = model.loss(batch)
    assert "aux" in metrics and float(loss.detach()) > metrics["loss"]          # the auxiliary term is added
    clean = compress(model.stft(batch["target"]), TINY.compress)
    energies = model.band_energies(clean, 10)
    assert energies.shape == (3, 10, config.aux_bands)
    # video frame 2, band 0 = the mean compressed magnitude of STFT frames 8..11 over the first bins
    first = -(-TINY.bins // config.aux_bands)                            # adaptive pooling: ceil(F / bands) bins
    expected = clean.abs()[0, 8:12, :first].mean()
    assert float(energies[0, 2, 0]) == pytest.approx(float(expected), rel=1e-5)
    before = model.aux.weight.clone()
    model.init_from_state(AVSeparation(TINY).state_dict())             # no aux head in the file: it keeps its init
    assert torch.equal(model.aux.weight, before)
    with pytest.raises(ParameterError, match="do not fit"):
        model.init_from_state({k: v for k, v in AVSeparation(TINY).state_dict().items() if not k.startswith("lstm")})


@pytest.mark.slow
def test_tiny_preset_learns_to_pick_the_voice_the_face_shows(tmp_path):
    """Two tone voices from one distribution: only the synthetic mouth says which is wanted. After training,
    the model's output 0 follows the voice whose mouth it is shown; shown another item's mouth, it fails."""
    resolved = recipes.resolve("recipes/av_separation_grid.py", "tiny",
                               ["train.max_steps=300", "train.eval_every=300", "train.save_every=300"])
    recipes.run(resolved, str(tmp_path), tmp_path / "run", progress=False)
    from sightsound.pretrained import load_pretrained

    model = load_pretrained(tmp_path / "run").eval()
    val = am.collate(am.ToneMixtures(resolved.data_config, 32, seed=123).items)
    with torch.no_grad():
        def gain(mouths):
            estimate = model(val["mixture"], mouths)["estimates"][:, 0]
            return float((AF.si_sdr(val["target"], estimate) - AF.si_sdr(val["target"], val["mixture"])).mean())
        right, wrong = gain(val["mouths"]), gain(val["mouths"].roll(1, 0))
    assert right > 0.5, right
    assert right > wrong + 4.0, (right, wrong)
