"""Jinja extensions of the FastAPI Golden Path template, and the plain functions under them."""
