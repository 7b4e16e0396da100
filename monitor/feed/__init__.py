"""The wire and the hub side: what travels between producers, the hub and subscribers.

* `protocol`: the frames, built and read (one pydantic schema for every frame).
* `client`: `FeedClient`, a subscriber that re-syncs and resumes on its own.
* `hub`: the websocket hub (`callboard serve`), with its limits and `/health`.
* `journal`: the hub's write-ahead journal (checksummed records).
* `tokens`, `connection_failures`, `log_limit`: the hub's authentication and
  how it reports floods of bad connections and refused events.
"""
