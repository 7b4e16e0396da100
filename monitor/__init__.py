"""Everything of callboard that touches the world: files, sockets, terminals."""
