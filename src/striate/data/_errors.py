"""Exceptions raised by :mod:`striate.data` (both are ``ValueError``/``OSError`` subclasses so
callers that already catch those keep working)."""

from __future__ import annotations


class DataFormatError(ValueError):
    """A data file is malformed: the message names the file and what is wrong with it."""


class DownloadError(OSError):
    """A download failed (HTTP error, truncated transfer, checksum mismatch). Nothing is left
    at the destination path when this is raised."""
