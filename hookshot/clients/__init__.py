"""Clients for the services the bridge talks to (GitHub, GitLab)."""
