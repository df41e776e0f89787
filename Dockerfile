# tweetchat as a container: `docker build -t tweetchat .`, then see docs/deploy.md.

# Build stage: the bot and its pinned dependencies, installed into a virtualenv.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml constraints.txt README.md ./
COPY bot ./bot
RUN /opt/venv/bin/pip install --no-cache-dir -c constraints.txt .

# Run stage: the virtualenv and the chat files, run by an unprivileged user.
FROM python:3.11-slim-bookworm
# The SQLite ledger lives on the /data volume unless DATABASE_URL names PostgreSQL;
# matplotlib (wrap-up charts) needs a writable cache directory.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TWEETCHAT_LOG_FORMAT=json \
    DATABASE_URL=sqlite:////data/tweetchat.sqlite3 \
    MPLCONFIGDIR=/tmp/matplotlib
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin tweetchat \
    && mkdir -p /data /app/out \
    && chown 10001:10001 /data /app/out
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY config ./config
USER 10001:10001
VOLUME ["/data"]
# `tweetchat run` stops within 10 s of SIGTERM (Docker's default wait before SIGKILL),
# leaving any post in flight recorded or claimed for recovery, and releasing its leases.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["tweetchat", "health", "--max-age", "30s"]
CMD ["tweetchat", "run", "config/chat.yaml"]
