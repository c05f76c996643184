"""Domain errors carry a stable code; the API turns them into
`{"code", "message", "fields"}` with the status they name."""


class DomainError(Exception):
    status_code = 409
    code = "conflict"

    def __init__(self, message: str, *, code: str | None = None,
                 fields: dict[str, list[str]] | None = None,
                 status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.fields = fields or {}


class InvalidTransition(DomainError):
    status_code = 409
    code = "invalid_transition"


class BusinessRuleViolation(DomainError):
    status_code = 422
    code = "rule_violation"
