"""Things that ship with the package: sample inputs (and, later, small checkpoints and their registry)."""

from pathlib import Path

SAMPLES = Path(__file__).resolve().parent / "samples"
SPEECH_SAMPLE = SAMPLES / "speech_flite_16k.flac"  # 3.8 s, flite kal16 voice, made by samples/make_speech.sh
