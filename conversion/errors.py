class ConversionError(ValueError):
    """A source checkpoint cannot be converted; the message names the file or variable and what was expected."""


class CheckpointError(ConversionError):
    """A checkpoint file is missing, truncated, corrupt or not in the expected format."""
