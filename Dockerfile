# hogfleet in the official Playwright image: Chromium and its system libraries are already there.
# The tag must match the `playwright==X.Y.*` pin in pyproject.toml (tests/bots/test_docker.py checks
# it): the Python package drives exactly the browser build its image ships.
FROM mcr.microsoft.com/playwright/python:v1.65.0-noble

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    HOGFLEET_STATE_DIR=/app/.hogfleet \
    HOGFLEET_STORAGE_DIR=/app/storage_states

# tini as PID 1: it reaps Chromium's zombie children and forwards SIGTERM so a stopped container
# ends the run between sessions instead of being killed mid-write.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so editing the code does not reinstall them.
COPY pyproject.toml README.md ./
COPY personas/ personas/
COPY flows/ flows/
COPY bots/ bots/
COPY analytics/ analytics/
COPY demo/ demo/
RUN python -m pip install . \
    && mkdir -p /app/.hogfleet /app/storage_states \
    && chown -R pwuser:pwuser /app

# pwuser (uid 1000) is the image's unprivileged user. Playwright starts Chromium without its own
# sandbox by default, so no extra capabilities are needed; give it shared memory (--ipc=host).
USER pwuser

# Personas' identity lives here: mount both, or every run starts a brand-new pool.
VOLUME ["/app/.hogfleet", "/app/storage_states"]

ENTRYPOINT ["tini", "--", "hogfleet"]
CMD ["run", "--json"]
