"""The source database, read-only: views, their checks, selection and point-in-time threads."""
