"""Untrusted text: feed text made safe for a terminal (`safe_text`) and phone
numbers masked for a shared screen (`masking`)."""
