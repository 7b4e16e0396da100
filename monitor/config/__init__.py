"""callboard.toml: the models of its sections, where it is found, and its problems by line."""
