"""Every table of the service, imported in one place so Alembic sees them all.

Add an import here when you add a models module.
"""

from .api.items.models import Item
from .db import Base

__all__ = ["Base", "Item"]
