"""Extract stage: bytes of a fetched document → ogi.models.ExtractedDocument (tables + text)."""

from extract.dispatch import extract_document

__all__ = ["extract_document"]
