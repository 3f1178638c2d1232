"""The vocoder from the command line and the Python API: copy-synthesis with WaveNet and Griffin-Lim,
``eval vocoder`` on a GRID-layout folder, and the one-line errors."""

from __future__ import annotations

import json

import pytest
import torch

from sightsound.audio import io
from sightsound.cli import main
from sightsound.data import grid
from sightsound.errors import ParameterError
from sightsound.pretrained.vocoder import Vocoder
from sightsound.training import recipes
from tests.conftest import ROOT, SPEECH_FILE


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(data root, run folder) of the tiny WaveNet recipe trained on a synthetic GRID folder."""
    root = tmp_path_factory.mktemp("grid")
    grid.write_synthetic(root)
    run = root / "run"
    recipes.run(recipes.resolve(ROOT / "recipes" / "wavenet_grid.py", "tiny"), str(root), run, progress=False)
    return root, run


def test_vocoder_api_shapes(trained):
    _, run = trained
    wavenet = Vocoder.from_pretrained(run)
    griffin = Vocoder.from_pretrained("griffinlim")
    y, _ = io.load(SPEECH_FILE, sr=16000)
    mel = wavenet.analyse(y[:8000])
    assert mel.shape == (80, 1 + 8000 // 200)
    for vocoder in (wavenet, griffin):
        wave = vocoder(mel)
        assert wave.shape == (mel.shape[-1] * 200,) and torch.isfinite(wave).all()
    batch = wavenet(torch.stack([mel, mel]), torch.tensor([mel.shape[-1], 10]), seed=3)
    assert batch.shape == (2, mel.shape[-1] * 200) and torch.all(batch[1, 2000:] == 0)
    assert torch.equal(wavenet(mel, seed=3), wavenet(mel, seed=3))
    cold = Vocoder.from_pretrained(run, temperature=0.5)
    assert cold.temperature == 0.5 and wavenet.temperature == 1.0
    assert not torch.equal(cold(mel, seed=3), wavenet(mel, seed=3))  # the same noise, a sharper distribution
    with pytest.raises(ParameterError, match="temperature"):
        Vocoder.from_pretrained(run, temperature=0.0)


def test_vocode_cli(trained, tmp_path, capsys):
    _, run = trained
    for vocoder, extra in (("griffinlim", []), ("wavenet", ["--model", str(run)])):
        out = tmp_path / f"{vocoder}.wav"
        assert main(["vocode", str(SPEECH_FILE), "-o", str(out), "--vocoder", vocoder, "--json", *extra]) == 0
        report = json.loads(capsys.readouterr().out)
        y, sr = io.load(out)
        source, _ = io.load(SPEECH_FILE)
        assert sr == 16000 and len(y) == len(source) and report["real_time_factor"] > 0


@pytest.mark.parametrize("case", ["missing", "exists", "not_audio", "not_a_wavenet", "silent", "temperature"])
def test_vocode_bad_input(case, trained, tmp_path, capsys):
    _, run = trained
    source, out, extra = str(SPEECH_FILE), tmp_path / "out.wav", ["--model", str(run)]
    if case == "missing":
        source = str(tmp_path / "nope.wav")
    elif case == "exists":
        out.write_bytes(b"keep me")
    elif case == "not_audio":
        source = str(tmp_path / "bad.wav")
        (tmp_path / "bad.wav").write_text("not audio")
    elif case == "not_a_wavenet":
        extra = ["--model", str(tmp_path)]
    elif case == "silent":
        source = str(tmp_path / "silent.wav")
        io.save(source, torch.zeros(8000), 16000)
    elif case == "temperature":
        extra += ["--temperature", "0"]
    try:
        code = main(["vocode", source, "-o", str(out), *extra])
    except SystemExit as stop:  # argparse's own errors
        code = stop.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(("sightsound: error:", "sightsound vocode: error:")) and "\n" not in err
    if case == "exists":
        assert out.read_bytes() == b"keep me"


def test_eval_vocoder_cli(trained, tmp_path, capsys):
    pytest.importorskip("pocketsphinx")
    root, run = trained
    out_dir = tmp_path / "audio"
    code = main(["eval", "vocoder", "--model", str(run), "--data", str(root / "grid-s1"), "--limit", "3",
                 "--iterations", "4", "--temperature", "0.8", "--json", "--out-dir", str(out_dir)])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["clips"] == 3 and set(report["systems"]) == {"original", "griffinlim", "wavenet"}
    assert report["temperature"] == 0.8
    for system in ("griffinlim", "wavenet"):
        entry = report["systems"][system]
        assert entry["mcd_db"] > 0 and entry["lsd_db"] > 0 and 0 < entry["spectral_convergence"]
        assert entry["wer"] >= 0 and entry["real_time_factor"] > 0 and len(entry["slot_error_rates"]) == 6
        assert 0 <= entry["stoi"] <= 1                                   # listening measures against the original
        assert entry["pesq_wb"] is None or 1.0 <= entry["pesq_wb"] <= 4.7
    assert "stoi" not in report["systems"]["original"]
    assert len(list(out_dir.glob("*.wav"))) == 6
    assert set(report["systems"]["wavenet"]["mcd_by_level_db"]) <= {"0-10", "10-20", "20-30", "30-40"}
    assert main(["eval", "vocoder", "--model", str(run), "--data", str(tmp_path), "--json"]) == 2


def test_eval_vocoder_draws(trained, tmp_path, capsys):
    """--draws N: draw d is the run with --seed SEED+d; means, WER range and the between-draw distortion."""
    pytest.importorskip("pocketsphinx")
    root, run = trained
    train, _ = grid.clip_names(root / "grid-s1", grid.Config(subdir="."))
    names = tmp_path / "clips.txt"
    names.write_text(f"{train[3]}\n{train[1]}\n")  # a chosen list of clips, in its own order
    common = ["eval", "vocoder", "--model", str(run), "--data", str(root / "grid-s1"), "--clips", str(names),
              "--iterations", "2", "--json"]
    singles = []
    for seed in (5, 6):
        assert main([*common, "--seed", str(seed)]) == 0
        singles.append(json.loads(capsys.readouterr().out)["systems"])
    assert main([*common, "--seed", "5", "--draws", "2", "--out-dir", str(tmp_path / "audio")]) == 0
    report = json.loads(capsys.readouterr().out)
    entry = report["systems"]["wavenet"]
    assert report["clips"] == 2 and [e["clip"] for e in report["examples"]] == [train[3], train[1]]
    assert report["draws"] == 2 and [d["seed"] for d in entry["draws"]] == [5, 6]
    for draw, single in zip(entry["draws"], singles):
        for k in ("wer", "mcd_db", "lsd_db", "spectral_convergence"):
            assert draw[k] == single["wavenet"][k]
    assert entry["mcd_db"] == pytest.approx((singles[0]["wavenet"]["mcd_db"] + singles[1]["wavenet"]["mcd_db"]) / 2,
                                            abs=1e-3)
    assert entry["wer_range"] == sorted(s["wavenet"]["wer"] for s in singles)
    assert entry["between_draws"]["mcd_db"] > 0 and entry["between_draws"]["lsd_db"] > 0
    assert report["systems"]["griffinlim"]["mcd_db"] == singles[0]["griffinlim"]["mcd_db"]  # one pass, no draws
    assert "draws" not in report["systems"]["griffinlim"]
    assert len(list((tmp_path / "audio").glob("*_wavenet_seed6.wav"))) == 2
    with pytest.raises(SystemExit):
        main([*common, "--draws", "0"])
    names.write_text("bbaf2n_not_a_clip\n")
    assert main(common) == 2
    assert "not_a_clip" in capsys.readouterr().err
    names.write_text("\n\n")
    assert main(common) == 2
    assert "no clip names" in capsys.readouterr().err
    assert main([*common[:6], "--clips", "most"]) == 2


def test_tour_vocoder_section(trained, tmp_path):
    from sightsound.viz.tour import build_tour

    _, run = trained
    report = {"clips": 2, "systems": {"original": {"wer": 0.0}, "griffinlim": {"wer": 0.1, "mcd_db": 5.0,
                                                                              "lsd_db": 9.0, "real_time_factor": 0.2},
                                      "wavenet": {"wer": 0.15, "mcd_db": 6.0, "lsd_db": 9.5, "real_time_factor": 1.0,
                                                  "wer_range": [0.125, 0.175], "draws": [{}, {}, {}],
                                                  "between_draws": {"mcd_db": 4.5, "lsd_db": 8.0}}}}
    page = build_tour(tmp_path / "tour", SPEECH_FILE, progress=False, vocoder=Vocoder.from_pretrained(run),
                      vocoder_eval=report).read_text()
    assert 'id="vocoder"' in page and "receptive field" in page and "<th>MCD (dB)</th>" in page
    assert "mean of 3 draws" in page and "0.125 to 0.175" in page and "MCD of 4.50 dB" in page
    for name in ("vocoder_original.wav", "vocoder_griffinlim.wav", "vocoder_wavenet.wav", "vocoder_comparison.jpg"):
        assert (tmp_path / "tour" / "assets" / name).is_file()
