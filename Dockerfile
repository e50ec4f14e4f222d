FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY moderation ./moderation
COPY workers ./workers
RUN pip install --no-cache-dir . && useradd --create-home moderation && mkdir -p /var/lib/moderation \
    && chown moderation /var/lib/moderation
USER moderation
EXPOSE 8000
CMD ["moderation", "serve", "--host", "0.0.0.0"]
