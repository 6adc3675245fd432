# syntax=docker/dockerfile:1
#
# Guichet API image.
#   docker build -t guichet .
#   docker run -p 8000:8000 \
#     -e GUICHET_DATABASE_URL=postgresql://guichet:secret@db:5432/guichet \
#     -e GUICHET_JWT_SECRET="$(openssl rand -hex 32)" guichet
# The container applies the migrations, then serves /graphql with uvicorn workers.

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------- builder: a wheel, installed in a venv
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/guichet \
 && /opt/guichet/bin/pip install --upgrade pip wheel
COPY pyproject.toml README.md ./
COPY api ./api
COPY auth ./auth
COPY bench ./bench
COPY domain ./domain
COPY migrations ./migrations
COPY resolvers ./resolvers
COPY schema ./schema
COPY seeds ./seeds
RUN /opt/guichet/bin/pip wheel --no-deps --wheel-dir /wheels . \
 && /opt/guichet/bin/pip install /wheels/guichet-*.whl

# ---------------------------------------------------------------- runtime: the venv, a non-root user
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/guichet/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GUICHET_ENVIRONMENT=production \
    GUICHET_DATA_DIR=/tmp/guichet \
    WEB_CONCURRENCY=2 \
    PORT=8000
# GUICHET_DATABASE_URL and GUICHET_JWT_SECRET (>= 32 characters) must be given at run time;
# production settings refuse to start without them.
RUN groupadd --system --gid 10001 guichet \
 && useradd --system --uid 10001 --gid guichet --home-dir /app --no-create-home --shell /usr/sbin/nologin guichet
COPY --from=builder /opt/guichet /opt/guichet
WORKDIR /app
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4); sys.exit(0 if r.status == 200 else 1)"]
CMD ["sh", "-c", ": \"${GUICHET_DATABASE_URL:?set GUICHET_DATABASE_URL}\" \"${GUICHET_JWT_SECRET:?set GUICHET_JWT_SECRET}\" && guichet migrate && exec uvicorn api.app:app_factory --factory --workers \"${WEB_CONCURRENCY:-2}\" --host 0.0.0.0 --port \"${PORT:-8000}\" --proxy-headers --no-access-log"]
