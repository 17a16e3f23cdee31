# syntax=docker/dockerfile:1.7
# One image per service: the same code the local runtime runs, started by its package.
# Built by programs/aws/_images.py (context: the repository root; SERVICE_PACKAGE per service).
FROM python:3.11-slim AS build
WORKDIR /src
COPY constraints/main.txt programs/docker/service-requirements.txt ./
RUN python -m venv /venv && /venv/bin/pip install --no-cache-dir -c main.txt -r service-requirements.txt

FROM python:3.11-slim
ARG SERVICE_PACKAGE
ENV PATH=/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SERVICE_PACKAGE=${SERVICE_PACKAGE}
COPY --from=build /venv /venv
# the RDS certificate authorities: services verify the database's certificate (MYSQL_TLS=verify)
ADD --chmod=0444 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /etc/ssl/rds/global-bundle.pem
WORKDIR /app
COPY services/ services/
USER 10001:10001
CMD ["sh", "-c", "exec python -m \"$SERVICE_PACKAGE\""]
