"""CSV cells that a spreadsheet shows rather than runs (OWASP "CSV injection")."""

# Text starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value):
    """Empty for None, true/false for booleans, numbers as numbers (a negative coordinate is data),
    and text that would start a formula prefixed with a quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def cells(values) -> list:
    """[cell(value) for value in values], with no function call a value: a CSV export writes 31 a row."""
    return ["" if value is None else ("true" if value else "false") if isinstance(value, bool)
            else "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value
            for value in values]
