# The carehub hub (it also serves the dashboard). Used by docker-compose.yml; see
# docs/operations.md, "Deploying with docker compose".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY carehub ./carehub
COPY hub ./hub
COPY alerts ./alerts
COPY dashboard ./dashboard
COPY device_sim ./device_sim
COPY training ./training
COPY deploy/hub_init.py ./deploy/hub_init.py
# editable: the dashboard's static files and translations are served from the source tree
RUN pip install -e . \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin carehub \
    && mkdir -p /app/data \
    && chown carehub:carehub /app/data

USER carehub
ENV CAREHUB_HTTP_HOST=0.0.0.0 \
    CAREHUB_HTTP_PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
CMD ["carehub", "serve"]
