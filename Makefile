# Thin wrappers around scripts/dev.py (which also works without make, e.g. on Windows).
PYTHON ?= python3

.PHONY: run test sandbox

run:
	$(PYTHON) scripts/dev.py run $(ARGS)

test:
	$(PYTHON) scripts/dev.py test $(ARGS)

sandbox:
	$(PYTHON) scripts/dev.py sandbox $(ARGS)
