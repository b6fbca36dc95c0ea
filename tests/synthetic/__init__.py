"""Synthetic streams written from providers' docs; see each folder's README."""
