# hookshot (Python): `docker build -t hookshot .` then
#   docker run -v ./data:/data -p 9000:9000 -p 9993:9993 hookshot
# with /data/config.yml and /data/registration.yml (paths as in matrix-hookshot's image).

# --- 1: the configuration widget ------------------------------------------------------------
FROM node:20-bookworm-slim AS widget
WORKDIR /src/widgets
COPY widgets/package.json widgets/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY widgets/ ./
# vite writes to ../hookshot/widget_static (see widgets/vite.config.ts)
RUN mkdir -p /src/hookshot && npm run build

# --- 2: the Python package in a venv, every dependency at its uv.lock version ---------------
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1 UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/hookshot UV_COMPILE_BYTECODE=1
# The same uv as the Makefile's UV_VERSION.
RUN pip install uv==0.13.9
WORKDIR /src
COPY pyproject.toml uv.lock README.md /src/
COPY hookshot/ /src/hookshot/
COPY --from=widget /src/hookshot/widget_static/ /src/hookshot/widget_static/
# --locked fails the build if uv.lock is stale; no dev extra, the package itself not editable.
RUN uv sync --locked --no-editable --python /usr/local/bin/python

# --- 3: the runtime ---------------------------------------------------------------------------
FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --home-dir /data hookshot \
    && mkdir -p /data && chown hookshot /data
COPY --from=build /opt/hookshot /opt/hookshot
ENV PATH=/opt/hookshot/bin:$PATH PYTHONUNBUFFERED=1
USER hookshot
WORKDIR /data
VOLUME ["/data"]
# 9993: appservice (bridge.port); 9000: webhooks/widgets/metrics listener (config.sample.yml)
EXPOSE 9993 9000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9000/live', timeout=4).status == 200 else 1)"
CMD ["python", "-m", "hookshot", "/data/config.yml", "/data/registration.yml"]
