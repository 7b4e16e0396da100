"""The wallboard: a Textual app that renders `monitor.board.Board` as calls come in."""
