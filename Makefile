# Thin wrappers around scripts/dev.py (which also works without make, e.g. on Windows).
PYTHON ?= python3

.PHONY: run test sandbox lock

run:
	$(PYTHON) scripts/dev.py run $(ARGS)

test:
	$(PYTHON) scripts/dev.py test $(ARGS)

sandbox:
	$(PYTHON) scripts/dev.py sandbox $(ARGS)

# Regenerate requirements.lock from pyproject.toml (see README: the lock file).
lock:
	$(PYTHON) scripts/dev.py lock $(ARGS)

# PyInstaller one-folder bundle (dist/moments-desktop/) + .deb (Linux); see packaging/README.md.
.PHONY: package
package:
	$(PYTHON) scripts/dev.py package $(ARGS)
