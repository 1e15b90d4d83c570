"""Exceptions raised by the rotation Lambda. Messages never contain secret values."""


class RotationError(RuntimeError):
    """A rotation step cannot proceed; Secrets Manager will retry the rotation."""


class ContractError(RotationError):
    """The event or the secret violates the Secrets Manager rotation contract."""


class ManualRotationRequired(RotationError):
    """A third-party key cannot be re-issued by code; an operator was notified."""


class UnknownStrategyError(ContractError):
    """No implementation is registered for the requested rotation strategy."""
