# One image for web, worker and beat (cookiecutter-django style); the command picks the role.
FROM python:3.11-slim-bookworm AS python

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml ./
RUN pip install --upgrade pip && pip install .
COPY . .
# Hashed, compressed static files in the image: WhiteNoise serves them (the admin, the API docs).
RUN compose/django/collectstatic

RUN useradd --system --uid 1000 django \
 && mkdir -p /app/logs /app/media /app/staticfiles \
 && chown -R django /app/logs /app/media /app/staticfiles
USER django

EXPOSE 8000
ENTRYPOINT ["/app/compose/django/entrypoint"]
CMD ["/app/compose/django/start"]
