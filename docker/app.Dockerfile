# The app image (Python 3.11): the public API and the internal action server run from it.
FROM python:3.11-slim AS app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONPATH=/app
WORKDIR /app
COPY requirements/app.txt requirements/app.txt
# The CPU build of torch (the default PyPI wheel would pull several GB of CUDA libraries).
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==$(grep '^torch==' requirements/app.txt | cut -d= -f3)" \
    && pip install -r requirements/app.txt
COPY api api
COPY bot bot
COPY knowledge knowledge
COPY locales locales
COPY eval eval
RUN pybabel compile -d locales --statistics && pybabel compile -D dashboard -d locales -l de \
    && useradd --system --uid 10001 lotse && mkdir -p var && chown lotse var
USER lotse
EXPOSE 8000 5055
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["python", "-m", "api"]
