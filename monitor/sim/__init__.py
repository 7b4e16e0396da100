"""The contact-centre simulator: a pure model (`model`, `config`, `truth`, `people`)
and a real-time pacer for live feeds (`live`).

This package file imports nothing, so importing the pure model never pulls in asyncio.
"""
