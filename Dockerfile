# Image for the api, migrate (and later sequencer/scheduler) services of docker-compose.yml.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md alembic.ini ./
COPY service ./service
COPY migrations ./migrations
RUN pip install --no-cache-dir . && useradd --system --uid 10001 audit && mkdir -p /app/var && chown audit /app/var
USER audit
EXPOSE 8000
CMD ["gunicorn", "--config", "service/gunicorn_conf.py", "service.wsgi:app"]
