# One image for every service worker and for the command-line tools; the command picks which.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ORDERS_DATA_DIR=/data

WORKDIR /app
COPY requirements.lock pyproject.toml README.md ./
COPY domain ./domain
COPY infra ./infra
COPY stores ./stores
COPY activities ./activities
COPY workflows ./workflows
COPY workers ./workers
COPY starters ./starters
RUN pip install -c requirements.lock . \
    && useradd --create-home --uid 10001 orders \
    && mkdir -p /data && chown orders /data

USER orders
VOLUME ["/data"]
CMD ["python", "-m", "workers.run", "--service", "all"]
