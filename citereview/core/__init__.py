"""The pure core: no Markdown, no MkDocs. Every rule lives in :mod:`.findings`."""
