"""Team sync's pure core: identities, the hybrid logical clock, the incident state as a fold over
entries, the wire format in Slack message metadata, and reading people's Slack messages.

No storage, no network, no Textual. Each module imports only the standard library and the
domain (and `plaintext`'s Slack escaping), so `cockpit log` can take `ids` and `hlc` cheaply.
"""
