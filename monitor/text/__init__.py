"""Untrusted text: feed text made safe for a terminal (`safe_text`), phone
numbers masked for a shared screen (`masking`), and a source's next try counted
down (`next_try`)."""
