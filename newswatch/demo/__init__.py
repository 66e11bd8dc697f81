"""The bundled demo corpus and its loopback server."""
