"""Forgejo and Gitea: repository connections, signed webhook intake, notices and commands."""
