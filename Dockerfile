# One image for every service worker and for the command-line tools; the command picks which
# (docker-compose.yml: `python -m workers.run --service NAME`, `python -m starters.demo ...`).
# Slim, non-root, every dependency pinned by requirements.lock (a missing pin fails the build).
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    ORDERS_DATA_DIR=/data

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when the lock changes.
COPY requirements.lock ./
RUN pip install --no-deps -r requirements.lock

COPY pyproject.toml README.md ./
COPY domain ./domain
COPY infra ./infra
COPY stores ./stores
COPY activities ./activities
COPY workflows ./workflows
COPY workers ./workers
COPY client ./client
COPY insight ./insight
COPY chaos ./chaos
COPY starters ./starters
# --no-deps: the lock above is the whole dependency set; `pip check` fails the build if the
# project declares something the lock does not pin.
RUN pip install --no-deps . \
    && pip check \
    && useradd --create-home --uid 10001 orders \
    && mkdir -p /data && chown orders /data

USER orders
VOLUME ["/data"]
# Each worker serves Prometheus metrics here (ORDERS_METRICS_PORT, set by docker-compose.yml).
EXPOSE 9464
CMD ["python", "-m", "workers.run", "--service", "all"]
