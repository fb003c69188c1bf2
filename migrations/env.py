"""Alembic environment: the URL comes from DATABASE_URL, the metadata from the service."""
import importlib
from logging.config import fileConfig

from alembic import context

from service.config import Settings
from service.db import Base, make_engine

# Every feature keeps its own tables; importing them all registers each on Base.metadata.
for feature in ("keys", "policies", "ledger", "events", "audit", "reports"):
    importlib.import_module(f"service.{feature}.tables")

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def database_url() -> str:
    return config.attributes.get("database_url") or Settings.from_env().database_url


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(database_url())
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # The service's 5 s statement timeout is for requests; moving a million rows takes longer.
            connection.exec_driver_sql("SET statement_timeout = 0")
            connection.commit()  # a session setting; the migrations then run in their own transaction
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
