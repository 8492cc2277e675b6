"""Errors a user can act on. Each message says what is wrong and what to do."""


class SilifcError(Exception):
    """Base class: the CLI prints these without a traceback and exits with status 2."""


class CheckpointError(SilifcError):
    """The model file cannot be used (not a checkpoint, corrupt, unsafe, wrong keys, bad values)."""


class NotACheckpointError(CheckpointError):
    pass


class TruncatedCheckpointError(CheckpointError):
    pass


class UnsafeCheckpointError(CheckpointError):
    pass


class MissingKeysError(CheckpointError):
    pass


class UnexpectedKeysError(CheckpointError):
    pass


class UnknownNeuronTypeError(CheckpointError):
    pass


class ShapeMismatchError(CheckpointError):
    pass


class NonFiniteValueError(CheckpointError):
    pass


class ConfigError(SilifcError):
    """A sidecar config file or CLI option is invalid."""


class InputDataError(SilifcError):
    """An input spike file cannot be used."""


class QuantizationError(SilifcError):
    """The model cannot be represented in the chosen fixed-point formats."""


class QuantizationWarning(UserWarning):
    """The quantizer had to give up precision to fit a format (e.g. fewer fractional bits)."""


class UnknownBoardError(SilifcError):
    """No board file of that name ships with silifc; the message lists the known boards."""


class NIRError(SilifcError):
    """A NIR graph silifc cannot import (node, structure, parameter), or a model it cannot export to NIR."""
