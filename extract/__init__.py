"""Extract stage: bytes of a fetched document → ogi.models.ExtractedDocument (tables + text)."""

from ogi.extract.dispatch import extract_document

__all__ = ["extract_document"]
