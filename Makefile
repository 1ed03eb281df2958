# The two set-up commands of the README: `make demo` and `make test`.
# Each creates the virtual environment and installs what is missing first, with the
# tested versions pinned in constraints.txt.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.vhdiff-installed
OUT ?= outputs/demo
export PYOPENGL_PLATFORM ?= egl

.PHONY: install demo test test-slow lint bench package-check clean

install: $(STAMP)

$(STAMP): pyproject.toml setup.py constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24" -c constraints.txt
	@echo "installing vhdiff with every extra (.[all,dev]) into $(VENV): ~6.6 GB on disk, most of"
	@echo "it torch and its CUDA libraries (~3 GB to download, once: pip caches them); a few minutes"
	$(PY) -m pip install -c constraints.txt -e ".[all,dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/vhdiff demo --out $(OUT) --force

test: $(STAMP)
	$(PY) -m pytest -m "not slow" -q

test-slow: $(STAMP)
	$(PY) -m pytest -m slow -q

lint: $(STAMP)
	$(VENV)/bin/ruff check vhdiff viz data_prep tests benchmarks

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done

package-check: $(STAMP)
	bash .ci/package_check

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
