"""GWS I/O: how to reach a node (`connection`), the one HTTP client (`transport`), the REST
session (`session`), the Bayeux protocol (`bayeux`) and the CometD client (`stream`)."""
