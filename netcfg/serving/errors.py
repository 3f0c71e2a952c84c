"""Request errors: a status code and a one-line JSON body naming the field at fault.

Every answer to a bad request is ``{"error": "FIELD: what is wrong", "field": "FIELD"}``
(``field`` is null when no one field is at fault), with a 4xx status; the server never
answers with a traceback.
"""

from __future__ import annotations

import json

__all__ = ["RequestError", "error_body"]


class RequestError(Exception):
    """A request the server refuses: its status code, the field at fault, and why.

    Attributes:
        status: the HTTP status code (4xx).
        field: the request field at fault (``k``, ``[2].user``, ``pairs[0][1]``), or None.
        message: what is wrong, and what to do where that is known.
    """

    def __init__(self, status: int, field: str | None, message: str):
        self.status = status
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)

    def body(self) -> bytes:
        """The JSON body of the answer."""
        return error_body(self.field, self.message)


def error_body(field: str | None, message: str) -> bytes:
    """``{"error": "FIELD: MESSAGE", "field": FIELD}`` on one line, as bytes."""
    text = f"{field}: {message}" if field else message
    body = {"error": text, "field": field}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
