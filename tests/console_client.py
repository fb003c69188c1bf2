"""A person at the console, as the Flask test client sees one: pages, forms and their CSRF tokens."""
import json
import re
from html import unescape

from sqlalchemy import select

from service.ledger.tables import LedgerEntry

TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


def raw_key(headers: dict) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def csrf_of(html: str) -> str:
    return unescape(TOKEN.search(html).group(1))


class Console:
    def __init__(self, client, base_url: str = "http://localhost"):
        self.client, self.base_url = client, base_url

    def sign_in(self, key: str, next_page: str = "/console/events"):
        form = self.client.get("/console/login", base_url=self.base_url)
        assert form.status_code == 200
        return self.client.post("/console/login", base_url=self.base_url,
                                data={"csrf_token": csrf_of(form.text), "api_key": key, "next": next_page})

    def page(self, path: str, status: int = 200):
        response = self.client.get(path)
        assert response.status_code == status, (path, response.status_code, response.text[:2000])
        return response

    def token(self, path: str = "/console/ledger") -> str:
        return csrf_of(self.page(path).text)

    def post(self, path: str, form: dict, token_from: str | None = "/console/ledger"):
        """A form as the page sends it: with the token of a page of this session (None: without one)."""
        data = dict(form)
        if token_from is not None:
            data["csrf_token"] = self.token(token_from)
        return self.client.post(path, data=data)

    def session_cookie(self):
        return self.client.get_cookie("console_session", path="/console")


def ledger_bodies(app, entry_type: str) -> list[dict]:
    with app.extensions["db_sessions"]() as session:
        rows = session.scalars(select(LedgerEntry.canonical).where(LedgerEntry.entry_type == entry_type)
                               .order_by(LedgerEntry.id))
        return [json.loads(row) for row in rows]
