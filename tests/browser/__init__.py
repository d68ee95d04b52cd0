"""Real-browser tests: the built site, served under its sub-path, driven in headless Chromium."""
