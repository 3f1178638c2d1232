"""Text to speech end to end: data adapters (GRID, LJSpeech, Flickr spoken captions), the tiny recipe,
`sightsound tts` (one sentence, a file of sentences, the alignment plot), `eval tts`, and the errors."""

from __future__ import annotations

import json

import pytest
import torch

from sightsound.audio import io
from sightsound.cli import main
from sightsound.data import grid, tts
from sightsound.errors import UserInputError
from sightsound.pretrained.tts import Synthesizer
from sightsound.training import recipes
from tests.conftest import ROOT
from tests.test_cli import run


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("grid")
    grid.write_synthetic(root)
    run = root / "run"
    recipes.run(recipes.resolve(ROOT / "recipes" / "tacotron2_grid.py", "tiny"), str(root), run, progress=False)
    return root, run


def _tone(seconds, sr=16000):
    t = torch.arange(int(seconds * sr)) / sr
    y = 0.3 * torch.sin(2 * torch.pi * 220 * t)
    y[: int(0.3 * sr)] = 0  # silence to trim
    return y


def _spoken_captions(folder, first, n=4):
    """A folder laid out like flickr8k-1k's spoken captions: n tones, two captions per image (the first spoken)."""
    (folder / "spoken").mkdir(parents=True)
    rows = ["image,caption"]
    for i in range(n):
        io.save(folder / "spoken" / f"img{i}.mp3", _tone(1.0, 24000), 24000)
        rows += [f"img{i}.jpg," + first.format(i=i), f"img{i}.jpg,Second caption {i} ."]
    (folder / "captions.txt").write_text("\n".join(rows) + "\n")
    return folder


def test_grid_adapter_trims_to_the_words(trained):
    root, _ = trained
    train, val = tts.utterance_lists(root, tts.Config(source="grid", val_every=4))
    assert len(train) == 9 and len(val) == 3
    path, text, (start, end) = train[0]
    assert text.split()[0] in grid.GRID_GRAMMAR[0] and len(text.split()) == 6
    y = tts.load_utterance(path, (start, end), tts.Config(margin=0.1))
    assert abs(len(y) / 16000 - (end - start + 0.2)) < 0.01


def test_ljspeech_and_flickr_adapters(tmp_path):
    lj = tmp_path / "LJSpeech-1.1"
    (lj / "wavs").mkdir(parents=True)
    lines = []
    for i in range(6):   # Kathleen's layout: FLAC for some clips, WAV for others
        io.save(lj / "wavs" / f"LJ001-{i:04d}.{'flac' if i % 2 else 'wav'}", 0.2 * _tone(1.0), 16000)
        lines.append(f"LJ001-{i:04d}|Raw text {i}.|Normalized text number {i}.")
    (lj / "metadata.csv").write_text("\n".join(lines) + "\n")
    train, val = tts.utterance_lists(tmp_path, tts.Config(source="ljspeech", val_every=3))
    assert [t for _, t, _ in val] == ["Normalized text number 0.", "Normalized text number 3."]
    assert [t for _, t, _ in train] == ["Normalized text number 2.", "Normalized text number 5."]
    test = tts.ljspeech_split(lj, tts.Config(source="ljspeech", val_every=3))["test"]
    assert [p.name for p, _, _ in test] == ["LJ001-0001.flac", "LJ001-0004.wav"]   # held out, never trained on
    y = tts.load_utterance(test[0][0], None, tts.Config(source="ljspeech", margin=0.0))
    assert 0.65 < len(y) / 16000 < 0.72  # the leading 0.3 s of silence is trimmed
    loud = tts.load_utterance(test[0][0], None, tts.Config(source="ljspeech", margin=0.0, peak_db=-1.0))
    assert float(loud.abs().max()) == pytest.approx(10 ** (-1 / 20), rel=1e-4)   # quiet corpora: normalised
    assert torch.allclose(loud / loud.abs().max(), y / y.abs().max(), atol=1e-6)
    _spoken_captions(tmp_path / "flickr8k-1k", "First caption {i} .")
    train, val = tts.utterance_lists(tmp_path, tts.Config(source="flickr", val_every=2))
    assert [t for _, t, _ in val] == ["First caption 0 .", "First caption 2 ."]
    dataset = tts.Utterances(train, tts.Config(source="flickr"), "x")
    assert dataset[0][1].shape[0] == 80 and int(dataset[0][0][-1]) == 1  # log-mel, end symbol
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserInputError, match="metadata.csv"):
        tts.utterance_lists(tmp_path / "empty", tts.Config(source="ljspeech", subdir="."))
    with pytest.raises(UserInputError, match="not found"):
        tts.utterance_lists(tmp_path / "nothing", tts.Config(source="ljspeech", subdir="."))


def test_synthesizer_batch(trained):
    _, run = trained
    synth = Synthesizer.from_pretrained(run)
    result = synth(["bin blue at f two now", "set red"], max_steps=30)
    assert len(result.waves) == 2 and result.mels[0].shape[0] == 80
    for mel, alignment, wave in zip(result.mels, result.alignments, result.waves):
        assert alignment.shape[0] == mel.shape[1] // 2 and torch.isfinite(wave).all()
    again = synth(["bin blue at f two now", "set red"], max_steps=30)
    assert torch.equal(again.mels[0], result.mels[0])  # the prenet dropout is seeded


def test_teacher_forced_mel_follows_the_real_frames(trained):
    _, run = trained
    synth = Synthesizer.from_pretrained(run)
    real = torch.randn(80, 21)  # 21 frames: not a multiple of r = 2, padded for the model and cut back
    mel = synth.teacher_forced_mel("bin blue at f two now", real)
    assert mel.shape == (80, 21) and torch.isfinite(mel).all()
    ids, lengths = synth.encode(["bin blue at f two now"])
    torch.manual_seed(0)
    _, after, _, _ = synth.model(ids, lengths, torch.cat([real, torch.full((80, 1), float(real.min()))], 1)[None])
    assert torch.allclose(mel, after[0, :, :21])  # the training pass, seeded alike


def test_tts_cli(trained, tmp_path, capsys):
    _, run = trained
    out, plot = tmp_path / "a.wav", tmp_path / "a.png"
    assert main(["tts", "Bin blue at F 2 now.", "-o", str(out), "--model", str(run), "--plot", str(plot)]) == 0
    assert io.load(out)[1] == 16000 and plot.stat().st_size > 5000
    sentences = tmp_path / "s.txt"
    sentences.write_text("bin red\n\nset green by a one\n")
    assert main(["tts", "--file", str(sentences), "--out-dir", str(tmp_path / "many"), "--model", str(run)]) == 0
    assert sorted(p.name for p in (tmp_path / "many").iterdir()) == ["0001.wav", "0002.wav"]
    capsys.readouterr()
    assert main(["eval", "tts", "--model", str(run), "--data", str(trained[0] / "grid-s1"), "--limit", "3",
                 "--grammar-sentences", "2", "--word-loop", "--teacher-forced",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["sentences"] == 3 and 0 < report["focus_rate"] <= 1 and report["text_to_mel_real_time_factor_batch1"] > 0
    assert 0 <= report["hit_step_limit_share"] <= 1 and report["wer_real_griffinlim_resynthesis"] >= 0
    assert report["grammar_sentences"]["sentences"] == 2 and "recognizer" in report
    slots = report["slot_error_rates"]  # GRID sentences: the error rate of each of the 6 words
    assert set(slots) == {"synthesised", "real_griffinlim", "teacher_forced"} and len(slots["synthesised"]) == 6
    assert 0 <= report["wer_teacher_forced_griffinlim"] <= 1
    assert all(0 <= v <= 1 for v in slots["real_griffinlim"].values())
    listening = report["listening"]   # STOI / PESQ of what is time-aligned with the recording
    assert set(listening) == {"real_griffinlim", "teacher_forced_griffinlim"}
    for entry in listening.values():
        assert 0 <= entry["stoi"] <= 1 and (entry["pesq_wb"] is None or 1.0 <= entry["pesq_wb"] <= 4.7)


def test_eval_tts_on_the_held_out_lines_of_a_flac_ljspeech_folder(trained, tmp_path, capsys):
    tts.write_synthetic(tmp_path)                  # kathleen/: FLAC, quiet, LJSpeech metadata
    folder = tmp_path / "kathleen"
    outside = tmp_path / "outside.txt"      # sentences without recordings, scored with the open-vocabulary judge
    outside.write_text("The weather is lovely today.\n\nTwo dogs, 3 cats.\n")
    assert main(["eval", "tts", "--model", str(trained[1]), "--data", str(folder), "--clips", "test",
                 "--val-every", "4", "--peak-db", "-1", "--sentences", str(outside), "--seeds", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    lines = (folder / "metadata.csv").read_text().splitlines()
    assert report["layout"] == "ljspeech" and report["sentences"] == len(lines[2::4])
    assert "real_griffinlim" in report["listening"]
    extra = report["other_sentences"]
    assert extra["sentences"] == 2 and extra["decodes"] == 4 and 0 < extra["focus_rate"] <= 1
    assert extra["examples"][1]["text"] == "two dogs three cats" and 0 <= extra["wer_synthesised_griffinlim"]
    outside.write_text("\n")
    assert main(["eval", "tts", "--model", str(trained[1]), "--data", str(folder), "--sentences", str(outside)]) == 2
    assert "no sentences" in capsys.readouterr().err
    assert main(["eval", "tts", "--model", str(trained[1]), "--data", str(trained[0] / "grid-s1"),
                 "--clips", "test"]) == 2
    assert "LJSpeech" in capsys.readouterr().err


def test_eval_tts_on_a_flickr_layout_folder(trained, tmp_path, capsys):
    """Not GRID: the spoken-caption layout, open-vocabulary recognition, no slot error rates."""
    folder = _spoken_captions(tmp_path / "spoken-captions", "A dog runs {i} times .")
    assert main(["eval", "tts", "--model", str(trained[1]), "--data", str(folder), "--teacher-forced", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["layout"] == "flickr" and report["sentences"] == 4 and "language model" in report["recognizer"]
    assert report["examples"][0]["text"] == "a dog runs zero times" and "slot_error_rates" not in report
    assert 0 <= report["wer_real_griffinlim_resynthesis"] and 0 <= report["wer_teacher_forced_griffinlim"]
    assert main(["eval", "tts", "--model", str(trained[1]), "--data", str(folder), "--grammar-sentences", "2"]) == 2
    assert "needs a GRID folder" in capsys.readouterr().err
    assert main(["eval", "tts", "--model", str(trained[1]), "--data", str(tmp_path)]) == 2
    assert "laid out like" in capsys.readouterr().err
    capsys.readouterr()
    assert main(["eval", "tts", "--model", str(trained[1]), "--data", str(folder), "--seeds", "2", "--json"]) == 0
    twice = json.loads(capsys.readouterr().out)  # every sentence read twice: WER by seed, the mean reported
    per_seed = twice["wer_synthesised_griffinlim_per_seed"]
    assert twice["seeds"] == 2 and twice["decodes"] == 8 and len(per_seed) == 2
    assert twice["wer_synthesised_griffinlim"] == pytest.approx(sum(per_seed) / 2, abs=1e-3)
    assert twice["wer_real_griffinlim_resynthesis"] == report["wer_real_griffinlim_resynthesis"]
    with pytest.raises(SystemExit, match="2"):  # argparse: a one-line usage error
        main(["eval", "tts", "--model", str(trained[1]), "--data", str(folder), "--seeds", "0"])


@pytest.mark.parametrize("args, needle", [
    (["tts", "hello"], "-o out.wav"),
    (["tts", "hello", "-o", "x.wav", "--file", "s.txt"], "not both"),
    (["tts", "%%%", "-o", "x.wav"], "nothing to say"),
    (["tts", "--file", "missing.txt", "--out-dir", "d"], "no such file"),
    (["tts", "hello", "-o", "x.txt"], "must end in"),
])
def test_tts_bad_input(args, needle, trained, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([*args, "--model", str(trained[1])]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err


def test_tts_refuses_a_non_tacotron_model(trained, tmp_path, capsys):
    (tmp_path / "w").mkdir()
    assert main(["tts", "hello", "-o", str(tmp_path / "x.wav"), "--model", str(tmp_path / "w")]) == 2


def test_tour_tts_section(trained, tmp_path):
    from sightsound.viz.tour import build_tour
    from tests.conftest import SPEECH_FILE

    _, run = trained
    report = {"sentences": 3, "focus_rate": 0.9, "hit_step_limit": 0, "wer_synthesised_griffinlim": 0.1,
              "wer_real_griffinlim_resynthesis": 0.05, "text_to_mel_real_time_factor_batch1": 0.02}
    page = build_tour(tmp_path / "tour", SPEECH_FILE, progress=False, synthesizer=Synthesizer.from_pretrained(run),
                      tts_eval=report).read_text()
    assert 'id="tts"' in page and "focus rate 0.900" in page
    for name in ("tts_0.png", "tts_0.wav", "tts_1.png", "tts_1.wav"):
        assert (tmp_path / "tour" / "assets" / name).is_file()


def test_out_of_vocabulary_words_get_one_warning_line(tmp_path):
    result = run("tts", "The weather is lovely today.", "-o", str(tmp_path / "a.wav"))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1
    for word in ("'the'", "'weather'", "'lovely'", "'today'"):
        assert word in warnings[0]
    assert "51 words tacotron2-grid was trained on" in warnings[0]
    result = run("tts", "bin blue at f two now", "-o", str(tmp_path / "b.wav"))
    assert result.returncode == 0 and "warning" not in result.stderr


def test_vocabulary_is_stored_with_a_run_and_read_back(trained):
    import json as _json

    _, run_dir = trained
    vocabulary = _json.loads((run_dir / "vocabulary.json").read_text())
    assert vocabulary["closed"] is True and "bin" in vocabulary["words"]
    synth = Synthesizer.from_pretrained(run_dir)
    words, why = synth.unknown_words("Bin the blue, zebra!")
    assert words == ["the", "zebra"] and "trained on" in why
    # an open phoneme voice warns only for words without a pronunciation (spelled letter by letter)
    synth.vocabulary = {"closed": False, "words": vocabulary["words"]}
    object.__setattr__(synth.model.config, "phonemes", True)
    words, why = synth.unknown_words("the zzqxv weather")
    assert words == ["zzqxv"] and "CMUdict" in why
