"""The two pieces every part of the HTML report is built from: escaped text and tables."""
from html import escape


def e(value) -> str:
    return escape(str(value), quote=True)


def table(headers: list[str], rows: list[list], numeric: set[int] = frozenset(), table_id: str = "") -> str:
    """Cells are escaped here, once, whatever their origin."""
    cls = [' class="num"' if i in numeric else "" for i in range(len(headers))]
    head = "".join(f"<th{cls[i]}>{e(h)}</th>" for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f"<td{cls[i]}>{e(c)}</td>" for i, c in enumerate(row)) + "</tr>"
                   for row in rows) or f'<tr><td colspan="{len(headers)}">None</td></tr>'
    attr = f' id="{table_id}"' if table_id else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def review_text(review: dict | None) -> str:
    """A latest review in one cell: status, who, when, and what they wrote."""
    if not review:
        return "none"
    return f"{review['status']} by {review['reviewer']} at {review['recorded_at']}: {review['comment']}"
