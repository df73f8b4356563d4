from hirondelle.identity.models.user import User

__all__ = ["User"]
