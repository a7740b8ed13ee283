# cancelbot: the bot, its HTTP server and its command line in one image.
#   docker build -t cancelbot .
#   docker run --env-file .env -p 8080:8080 cancelbot            # cancelbot run
#   docker run --env-file .env cancelbot worker                    # notifier and watchdog
# Every command brings the database schema up to date when it starts (with an advisory
# lock on PostgreSQL, so containers starting together queue); nothing else to run first.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY storage ./storage
COPY templates ./templates
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    API_HOST=0.0.0.0 \
    API_PORT=8080
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /app --create-home cancelbot
USER cancelbot
WORKDIR /app
EXPOSE 8080
# /healthz answers 200 while the database answers; `cancelbot worker` serves no HTTP
# (compose.yaml turns the check off for it).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('API_PORT', '8080') + '/healthz', timeout=4)"]
ENTRYPOINT ["cancelbot"]
CMD ["run"]
