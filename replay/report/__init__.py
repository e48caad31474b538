"""Renderings of artifacts for people and CI: terminal text, Markdown, HTML, charts, JUnit."""
