"""The Python-Markdown adapter: extension, processors, tokens, templates, build state."""
