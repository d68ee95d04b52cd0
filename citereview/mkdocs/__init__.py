"""MkDocs / ProperDocs glue: the ``citereview`` plugin (entry point ``mkdocs.plugins``)."""
