"""Webhook receivers: vendors' HTTP deliveries (Exotel, Twilio, Amazon Connect) into the hub.

`monitor.hooks.server` is the HTTP listener (aiohttp) that `callboard serve --hooks`
opens beside the hub's websocket; `monitor.hooks.auth` checks who is calling;
`monitor.hooks.options` holds serve's options for it. The vendor mappings are pure
functions in `monitor.sources` (`exotel`, `twilio`, `amazon_connect`). The wire
contract is in docs/protocol.md ("Webhook receiver"), the mappings in docs/sources.md.
"""
