"""The fake client: routes, responses, call history, fake data.

Private: import the public names from `httpdeck.testing`."""
