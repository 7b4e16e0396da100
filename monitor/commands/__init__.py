"""One module per `callboard` subcommand; each offers `register(add_parser)`."""
