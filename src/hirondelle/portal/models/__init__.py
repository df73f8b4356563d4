"""The portal keeps no models of its own yet."""
