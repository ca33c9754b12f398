"""The example resource: router -> service -> repository, each in its own file."""
