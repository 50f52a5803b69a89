"""The full-text index over documents (title and current text), one row per document:
SQLite FTS5 (`document_search`, rowid = document id) or a PostgreSQL tsvector table with a GIN
index. Both hold the same normalized terms (nlp.index.search_terms: Russian lemmas, English
stems), so a query matches every inflection on either engine."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from regwatch.store.search import Node, to_fts5, to_tsquery

__all__ = [
    "INDEX_TABLE",
    "create_index",
    "drop_index",
    "index_document",
    "index_documents",
    "matching_documents",
]

INDEX_TABLE = "document_search"  # the statements below spell it out


def create_index(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            f"CREATE VIRTUAL TABLE {INDEX_TABLE} USING fts5(terms, "
            "tokenize = 'unicode61 remove_diacritics 0')"
        )
    else:
        conn.exec_driver_sql(
            f"CREATE TABLE {INDEX_TABLE} (document_id integer PRIMARY KEY "
            "REFERENCES documents(id) ON DELETE CASCADE, terms tsvector NOT NULL)"
        )
        conn.exec_driver_sql(
            f"CREATE INDEX ix_{INDEX_TABLE}_terms ON {INDEX_TABLE} USING gin (terms)"
        )


def drop_index(conn: Connection) -> None:
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {INDEX_TABLE}")


def _write(dialect: str, document_id: int, terms: str) -> tuple[TextClause, dict[str, Any]]:
    params = {"id": document_id, "terms": terms}
    if dialect == "sqlite":
        return text(
            "INSERT OR REPLACE INTO document_search (rowid, terms) VALUES (:id, :terms)"
        ), params
    return text(
        "INSERT INTO document_search (document_id, terms) VALUES (:id, to_tsvector('simple', "
        ":terms)) ON CONFLICT (document_id) DO UPDATE SET terms = EXCLUDED.terms"
    ), params


def index_document(session: Session | Connection, document_id: int, terms: list[str]) -> None:
    """(Re)index one document with its normalized terms."""
    bind = session.get_bind() if isinstance(session, Session) else session
    stmt, params = _write(bind.dialect.name, document_id, " ".join(terms))
    session.execute(stmt, params)


def index_documents(session: Session | Connection, rows: list[tuple[int, list[str]]]) -> None:
    """(Re)index many documents in one executemany: (document id, terms) pairs."""
    if not rows:
        return
    bind = session.get_bind() if isinstance(session, Session) else session
    stmt, _ = _write(bind.dialect.name, 0, "")
    session.execute(stmt, [{"id": i, "terms": " ".join(terms)} for i, terms in rows])


def matching_documents(dialect: str, query: Node) -> tuple[TextClause, dict[str, Any]]:
    """A SELECT of the ids of documents matching ``query``, and its bound parameters."""
    if dialect == "sqlite":
        return text("SELECT rowid AS id FROM document_search WHERE document_search MATCH :q"), {
            "q": to_fts5(query)
        }
    return text(
        "SELECT document_id AS id FROM document_search WHERE terms @@ to_tsquery('simple', :q)"
    ), {"q": to_tsquery(query)}
