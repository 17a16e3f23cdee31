# One image per service: the same code the local runtime runs, started by its package.
# Built by programs/aws/_images.py (context: the repository root; SERVICE_PACKAGE per service).
FROM python:3.11-slim AS build
WORKDIR /src
COPY constraints/main.txt ./
RUN python -m venv /venv && /venv/bin/pip install --no-cache-dir -c main.txt \
        litestar granian msgspec asyncmy aiokafka aiohttp yarl boto3 pyjwt argon2-cffi prometheus-client httpx

FROM python:3.11-slim
ARG SERVICE_PACKAGE
ENV PATH=/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SERVICE_PACKAGE=${SERVICE_PACKAGE}
COPY --from=build /venv /venv
WORKDIR /app
COPY services/ services/
USER 10001:10001
CMD ["sh", "-c", "exec python -m \"$SERVICE_PACKAGE\""]
