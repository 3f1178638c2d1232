#!/usr/bin/env bash
# Regenerates speech_flite_16k.flac, the short speech clip shipped for the tests and the tour fallback (flite's kal16 voice, 16 kHz).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp --suffix .wav)
flite -voice kal16 -t "The lecture shows how a spectrogram turns sound into a picture." -o "$tmp"
python -c "import soundfile as sf, sys; y, sr = sf.read(sys.argv[1]); sf.write('speech_flite_16k.flac', y, sr, subtype='PCM_16')" "$tmp"
rm -f "$tmp"
