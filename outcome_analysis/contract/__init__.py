"""The contract and loading: the delivery's schema, reading and checking files, periods, the demo delivery."""
