"""One module per `callboard` subcommand; each offers `register(subparsers)`."""
