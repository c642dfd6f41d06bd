# One image for every clicktrail process; docker-compose.yml picks the command.
FROM python:3.11-slim
# Debian's Chromium, for the page pictures the worker takes by itself (auto_pictures) and for
# `clicktrail screenshot --url`; about 300 MB. Build with --build-arg CHROMIUM=no to leave it
# out: pictures are then given by hand (`clicktrail screenshot --file`) and the maps say so.
ARG CHROMIUM=yes
RUN if [ "$CHROMIUM" = yes ]; then \
      apt-get update && apt-get install -y --no-install-recommends chromium \
      && rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /app
COPY pyproject.toml README.md ./
COPY collector collector
COPY heatmap heatmap
COPY reports reports
COPY tracker_js tracker_js
COPY clicktrail clicktrail
RUN pip install --no-cache-dir '.[browser]' && useradd --system clicktrail
USER clicktrail
EXPOSE 8000
CMD ["clicktrail", "collector", "--host", "0.0.0.0"]
