# One image for every clicktrail process; docker-compose.yml picks the command.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY collector collector
COPY heatmap heatmap
COPY reports reports
COPY tracker_js tracker_js
COPY clicktrail clicktrail
RUN pip install --no-cache-dir . && useradd --system clicktrail
USER clicktrail
EXPOSE 8000
CMD ["clicktrail", "collector", "--host", "0.0.0.0"]
