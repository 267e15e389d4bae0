# The Rasa image (Python 3.10, Rasa 3.6.21): the model is trained when the image is built.
FROM python:3.10-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app RASA_TELEMETRY_ENABLED=false
WORKDIR /app
COPY requirements/rasa.txt requirements/rasa.txt
RUN pip install -r requirements/rasa.txt
COPY bot bot
# The featurizer shares its vectors in the format of knowledge/embedding.py (one embedding per chat turn).
COPY knowledge/__init__.py knowledge/embedding.py knowledge/
WORKDIR /app/bot
RUN rasa train --fixed-model-name lotse --out models \
    && useradd --system --uid 10001 lotse && chown -R lotse /app/bot
USER lotse
EXPOSE 5005
CMD ["rasa", "run", "--model", "models", "--endpoints", "endpoints.production.yml", \
     "--credentials", "credentials.yml", "--port", "5005"]
