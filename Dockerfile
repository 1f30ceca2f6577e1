# crs-cds: the CDS Hooks service as a container image.
#   docker build -t crs-cds:0.2.0 .
#   docker run -p 8080:8080 -e CRS_CDS_PUBLIC_BASE_URL=https://cds.example.org \
#     -e CRS_CDS_ISSUERS_FILE=/etc/crs-cds/issuers/issuers.yaml -v "$PWD/issuers:/etc/crs-cds/issuers:ro" \
#     -e CRS_CDS_DATABASE_URL=postgresql://... -e CRS_CDS_REDIS_URL=redis://... crs-cds:0.2.0
# Production mode by default: it refuses to start without issuers, a public URL and (with more
# than one worker) a shared replay store; TLS is terminated in front of it (see docs/deployment.md).

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE NOTICE ./
COPY clinical clinical
COPY fhir_mappings fhir_mappings
COPY grading grading
COPY protocols protocols
COPY cards cards
COPY timeline timeline
COPY cds_service cds_service
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
ARG CRS_CDS_VERSION=0.2.0
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CRS_CDS_ENV=production \
    CRS_CDS_WORKERS=4 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/crs-cds-metrics
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels "crs-cds==${CRS_CDS_VERSION}" \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin crs \
    && mkdir -p /app /tmp/crs-cds-metrics \
    && chown crs /app /tmp/crs-cds-metrics
WORKDIR /app
USER 10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=2).status != 200)"]
ENTRYPOINT ["crs-cds"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
