"""Why a launch or a session cannot go on: a status and a stable code for the error page.

Messages name what is wrong (the parameter, the step) and never quote a request value, a
token or a patient id: they are shown to the user and the code goes to the request log.
"""
from __future__ import annotations


class LaunchError(Exception):
    def __init__(self, status: int, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.hint = status, code, message, hint
